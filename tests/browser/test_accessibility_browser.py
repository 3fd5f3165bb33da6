"""Every page of the main journeys, on the demo data, through axe-core: 0 critical, 0 serious.

Public pages, the applicant's pages (also at 390×844, where no page may scroll sideways), the staff
queues, the review page and the finance pages, in Chinese and in English. Each page is also
photographed (var/screenshots/) and its counts written to var/screenshots/axe.tsv.
"""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from applications.models import Application
from applications.workflow import State
from tests.fixtures import enter_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC = ["/", "/policy/", "/measures/", "/measures/M05/", "/interpretations/", "/notices/"]
PUBLIC_FORMS = ["/accounts/login/", "/register/"]


@pytest.fixture
def demo(catalogue, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", stdout=io.StringIO())
    by_state = {}
    for application in Application.objects.order_by("pk"):
        by_state.setdefault(application.state, application)
    return by_state


def sign_in(page, live_server, username: str, *, give_code: bool = True) -> None:
    """Log in afresh as username, keeping the language the page was in."""
    language = page.locator("html").get_attribute("lang") if page.url.startswith("http") else None
    page.context.clear_cookies()
    if language == "en":
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
        )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", settings.DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    if give_code and "/accounts/code/" in page.url:  # staff give the code, as a person would
        enter_code(page, username)


def visit(page, live_server, look, path: str, step: str) -> None:
    response = page.goto(f"{live_server.url}{path}")
    assert response.status == 200, f"{path}: {response.status}"
    # The page asked for, not the login page it might redirect to.
    assert page.url == f"{live_server.url}{path}", f"{path} ended at {page.url}"
    look(step)


def own_pk(username: str, state: str) -> int:
    return (
        Application.objects.filter(enterprise__members__user__username=username, state=state)
        .values_list("pk", flat=True)
        .first()
    )


def walk_everything(page, live_server, look, demo) -> None:
    for path in PUBLIC + PUBLIC_FORMS:
        visit(page, live_server, look, path, f"public {path}")

    sign_in(page, live_server, "enterprise")
    draft = own_pk("enterprise", State.DRAFT)
    approved = own_pk("enterprise", State.GOVERNMENT_APPROVAL)
    disbursed = own_pk("enterprise", State.DISBURSED)
    for path in (
        "/my/",
        "/my/applications/",
        f"/my/applications/{approved}/",
        f"/my/applications/{disbursed}/",
        f"/my/applications/{draft}/edit/",
        f"/my/applications/{draft}/check/",
        "/my/enterprise/",
        "/my/notifications/",
        "/my/apply/M05/",
    ):
        visit(page, live_server, look, path, f"enterprise {path}")

    sign_in(page, live_server, "enterprise2")
    returned = own_pk("enterprise2", State.RETURNED)
    for path in (f"/my/applications/{returned}/", f"/my/applications/{returned}/edit/"):
        visit(page, live_server, look, path, f"enterprise2 {path}")

    # An enterprise waiting for the Bureau of Commerce's verification.
    sign_in(page, live_server, "enterprise3")
    for path in ("/my/", "/my/enterprise/verification/", "/my/enterprise/"):
        visit(page, live_server, look, path, f"enterprise3 {path}")

    sign_in(page, live_server, "enterprise")
    visit(page, live_server, look, "/my/api-tokens/", "enterprise /my/api-tokens/")

    sign_in(page, live_server, "commerce")
    for path in (
        "/staff/",
        "/staff/queue/commerce/",
        f"/staff/applications/{demo[State.COMMERCE_REVIEW].pk}/",
        f"/staff/applications/{demo[State.SUBMITTED].pk}/",
        f"/staff/applications/{demo[State.RETURNED].pk}/",
        "/staff/enterprises/",
        f"/staff/enterprises/{pending_claim()}/",
        "/staff/enterprises/?tab=disputes",
        f"/staff/enterprises/{pending_claim('dispute')}/",
        "/staff/enterprises/?tab=decided",
        # 免申即享: the imports, one import's preview or record, the entitlement list.
        "/staff/statistics/",
        f"/staff/statistics/{statistics_import()}/",
        "/staff/entitlements/",
        "/staff/entitlements/?registered=no",
    ):
        visit(page, live_server, look, path, f"commerce {path}")

    sign_in(page, live_server, "finance")
    for path in (
        "/staff/queue/finance/",
        f"/staff/applications/{demo[State.FINANCE_REVIEW].pk}/",
        "/finance/disbursements/",
        "/finance/reports/",
        "/finance/forecast/",
        "/finance/api-results/",
        "/staff/budgets/",
    ):
        visit(page, live_server, look, path, f"finance {path}")

    sign_in(page, live_server, "registrar")
    for path in (
        "/staff/queue/registrar/",
        "/staff/queue/registrar/?tab=on_notice",
        "/staff/queue/registrar/?tab=to_approve",
        "/staff/notices/",
    ):
        visit(page, live_server, look, path, f"registrar {path}")

    sign_in(page, live_server, "auditor")
    visit(page, live_server, look, "/staff/audit/", "auditor /staff/audit/")
    for path in ("/staff/dossiers/", f"/staff/dossiers/{auditors_dossier()}/"):
        visit(page, live_server, look, path, f"auditor {path}")
    walk_access_pages(page, live_server, look)


def statistics_import() -> int:
    from reviews.models.statistics import StatisticsImport

    return StatisticsImport.objects.order_by("pk").values_list("pk", flat=True).first()


def auditors_dossier() -> int:
    from reviews.models import DossierJob

    dossiers = DossierJob.objects.filter(requested_by__username="auditor")
    return dossiers.values_list("pk", flat=True)[0]


def pending_claim(kind: str = "registration") -> int:
    from applications.models import EnterpriseClaim

    return EnterpriseClaim.objects.get(kind=kind, status="pending").pk


def walk_access_pages(page, live_server, look, prefix: str = "") -> None:
    """The pages of access itself: second-factor enrolment with its QR code, the recovery codes,
    the applicant's two-factor settings, the security administrator's page and the 429 page."""
    from django.test import override_settings

    from hengyang_cbec.accounts.roles import Role
    from tests.factories import make_user

    clerk = make_user(Role.FINANCE_REVIEWER, username="newclerk", full_name="钱多多")
    clerk.set_password(settings.DEMO_PASSWORD)
    clerk.save()
    sign_in(page, live_server, "newclerk", give_code=False)
    assert page.url.endswith("/accounts/code/")
    # The key in groups of four, and a link for enrolling on the phone that shows the page.
    assert len(page.locator("#totp-secret").inner_text().split()) == 8
    assert page.locator("[data-otpauth]").get_attribute("href").startswith("otpauth://totp/")
    look(f"{prefix}new staff: second-factor enrolment")
    page.fill("input[name=code]", "000000")
    page.click("main form button[type=submit]")
    look(f"{prefix}new staff: enrolment with a wrong code")
    page.wait_for_timeout(1100)
    _enrol(page)
    assert page.url.endswith("/accounts/recovery-codes/")
    look(f"{prefix}new staff: recovery codes")

    sign_in(page, live_server, "enterprise")
    visit(page, live_server, look, "/accounts/two-factor/", f"{prefix}applicant two-factor")
    sign_in(page, live_server, "security")
    visit(page, live_server, look, "/staff/security/", f"{prefix}security /staff/security/")
    visit(page, live_server, look, "/staff/security/api-keys/", f"{prefix}security api keys")

    limits = {**settings.RATE_LIMITS, "verify_notice": {"address": "1/m", "account": ""}}
    with override_settings(RATE_LIMITS=limits):
        page.goto(f"{live_server.url}/verify/NOSUCHCODE/")
        response = page.goto(f"{live_server.url}/verify/NOSUCHCODE/")
        assert response.status == 429
        look(f"{prefix}429 too many requests")


def _enrol(page) -> None:
    """Type the code an authenticator computes from the key shown under the QR code."""
    import base64

    from django_otp.oath import totp

    text = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(text + "=" * (-len(text) % 8))
    page.fill("input[name=code]", str(totp(key)).zfill(6))
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_every_main_page_has_no_critical_or_serious_axe_violation_in_chinese(
    page, live_server, look, demo
):
    walk_everything(page, live_server, look, demo)


def test_every_main_page_has_no_critical_or_serious_axe_violation_in_english(
    page, live_server, look, demo
):
    page.goto(f"{live_server.url}/")
    page.click("button[data-language=en]")
    page.wait_for_load_state("networkidle")
    # The language stays after logging in and out: it is kept in a cookie.
    walk_everything(page, live_server, look, demo)
    assert page.locator("html").get_attribute("lang") == "en"


def test_public_and_applicant_pages_fit_a_phone_without_sideways_scrolling(
    phone, live_server, look, demo
):
    page = phone
    for path in PUBLIC + PUBLIC_FORMS:
        visit(page, live_server, look, path, f"phone public {path}")
    sign_in(page, live_server, "enterprise")
    draft = own_pk("enterprise", State.DRAFT)
    for path in (
        "/my/",
        "/my/applications/",
        f"/my/applications/{own_pk('enterprise', State.DISBURSED)}/",
        f"/my/applications/{draft}/edit/",
        f"/my/applications/{draft}/check/",
        "/my/enterprise/",
        "/my/apply/M05/",
    ):
        visit(page, live_server, look, path, f"phone enterprise {path}")
    sign_in(page, live_server, "enterprise3")
    for path in ("/my/", "/my/enterprise/verification/"):
        visit(page, live_server, look, path, f"phone enterprise3 {path}")
    # The access pages at phone width too: a clerk enrols from a phone as often as from a desk.
    walk_access_pages(page, live_server, look, prefix="phone ")
