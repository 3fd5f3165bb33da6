"""In Chromium, in Chinese: an applicant registers a new credit code with the business licence and
the authorisation letter, sees that submission waits for the Bureau of Commerce, a commerce
reviewer (second factor typed from the authenticator's computed code) verifies the enterprise,
and the applicant then submits."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from applications.models import Application, Enterprise, EnterpriseClaim
from applications.tests.factories import make_uscc, pdf_bytes
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user
from tests.fixtures import enter_code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.real_second_factor,
    pytest.mark.django_db(transaction=True),
]

WAITING = "企业正在等待商务局核验营业执照和授权委托书。现在可以填写申报，企业核验通过后才能提交。"


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name in ("营业执照.pdf", "授权委托书.pdf", "证明材料.pdf"):
        paths[name] = tmp_path / name
        paths[name].write_bytes(pdf_bytes())
    return paths


def sign_up_and_register(page, live_server, files, look) -> str:
    page.goto(f"{live_server.url}/register/")
    page.fill("#id_username", "xinchuang")
    page.fill("#id_full_name", "赵新")
    page.fill("#id_email", "xinchuang@example.test")
    page.fill("#id_phone", "13912345678")
    page.fill("#id_password1", "a-Long-passphrase-2026")
    page.fill("#id_password2", "a-Long-passphrase-2026")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    link = re.search(r"https?://\S+/register/verify/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.click("a[href='/my/enterprise/new/']")
    uscc = make_uscc(2026)
    page.fill("#id_name", "衡阳新创跨境科技有限公司")
    page.fill("#id_uscc", uscc)
    page.select_option("#id_entity_type", "enterprise")
    page.select_option("#id_district", label="蒸湘区")
    page.fill("#id_registered_address", "衡阳市蒸湘区华新开发区")
    page.fill("#id_legal_representative", "赵国强")
    page.fill("#id_contact_name", "赵新")
    page.fill("#id_contact_phone", "13912345678")
    page.fill("#id_bank_name", "中国农业银行衡阳分行")
    page.fill("#id_bank_account", "18500101040012345")
    for name in (
        "registered_in_hengyang",
        "pays_taxes",
        "independent_legal_person",
        "has_cbec_performance",
        "in_customs_cbec_statistics",
    ):
        page.check(f"#id_{name}")
    # What the page asks for, as the person reads it.
    assert page.get_by_text("代表企业的证明材料").is_visible()
    assert page.locator("label[for=id_licence]").inner_text().startswith("营业执照")
    assert page.locator("label[for=id_authorisation]").inner_text().startswith("授权委托书")
    page.locator("#id_licence").set_input_files(str(files["营业执照.pdf"]))
    page.locator("#id_authorisation").set_input_files(str(files["授权委托书.pdf"]))
    look("enterprise profile with licence and authorisation letter")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    return uscc


def log_in(page, live_server, username: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_an_enterprise_registers_waits_for_verification_and_then_submits(
    page, live_server, catalogue, files, look, django_capture_on_commit_callbacks, eager_tasks
):
    uscc = sign_up_and_register(page, live_server, files, look)
    assert "企业已登记。商务局将核验企业材料" in page.locator(".messages").inner_text()
    banner = page.locator("[data-verification=pending]")
    assert WAITING in banner.inner_text()
    assert "等待商务局核验" in banner.inner_text()
    look("dashboard: waiting for verification")
    enterprise = Enterprise.objects.get(uscc=uscc)
    assert enterprise.verification == Enterprise.Verification.PENDING

    # The applicant prepares an application meanwhile; the check page says why it cannot go.
    page.click("[data-measure=M05] a[href='/my/apply/M05/']")
    page.select_option("#id_year", "2026")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.fill("#id_cbec_export_volume_usd", "600000")
    page.select_option("#id_had_cbec_exports_before", "no")
    page.locator("#autosave-status[data-state=saved]").wait_for()
    blocks = page.locator("[data-document-type]")
    for index in range(blocks.count()):
        block = page.locator("[data-document-type]").nth(index)
        block.locator("input[type=file]").set_input_files(str(files["证明材料.pdf"]))
        block.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
    application = Application.objects.get(enterprise=enterprise)
    check_url = f"{live_server.url}/my/applications/{application.pk}/check/"
    page.goto(check_url)
    assert WAITING in page.locator("main .alert-danger").inner_text()
    assert page.locator("main form button[type=submit]").is_disabled()
    look("check page: submission waits for verification")

    # A commerce reviewer logs in with the second factor and verifies the enterprise.
    make_user(Role.COMMERCE_REVIEWER, username="commerce", full_name="张伟")
    log_in(page, live_server, "commerce", PASSWORD)
    enter_code(page, "commerce")
    page.click("main a[href='/staff/enterprises/']")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "企业核验"
    row = page.locator("tr[data-claim]", has_text="衡阳新创跨境科技有限公司")
    assert uscc in row.inner_text() and "已检查 2 / 2 份" in row.inner_text()
    look("commerce: verification queue")
    row.locator("a").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-legal-representative]").inner_text() == "赵国强"
    assert (
        "授权委托书须写明被授权人赵新，并由法定代表人赵国强签字。"
        in page.locator("main").inner_text()
    )
    assert page.locator("[data-document=licence] a").inner_text() == "营业执照.pdf"
    page.get_by_label("核验通过：材料证明申请人有权代表企业").check()
    look("commerce: the claim with its documents")
    with django_capture_on_commit_callbacks(execute=True):
        page.click("main form button[type=submit]")
        page.wait_for_load_state("networkidle")
    assert "企业已核验通过，现在可以提交申报。" in page.locator(".messages").inner_text()
    look("commerce: verified")

    enterprise.refresh_from_db()
    assert enterprise.verification == Enterprise.Verification.VERIFIED
    assert enterprise.verified_by.username == "commerce"
    assert EnterpriseClaim.objects.get(enterprise=enterprise).status == "verified"
    assert AuditEvent.objects.filter(action="enterprise.verify").count() == 1

    # The applicant is told, and now submits.
    log_in(page, live_server, "xinchuang", "a-Long-passphrase-2026")
    page.goto(f"{live_server.url}/my/")
    assert (
        "商务局已核验通过“衡阳新创跨境科技有限公司”，现在可以提交申报。"
        in page.locator("main").inner_text()
    )
    assert page.locator("[data-verification]").count() == 0
    look("dashboard: verified")
    page.goto(check_url)
    assert page.locator("main .alert-danger").count() == 0
    page.check("#id_declared")
    page.fill("#id_signer_name", "赵新")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    look("receipt")
    reference = page.locator("[data-reference]").inner_text().strip()
    application.refresh_from_db()
    assert application.state == State.SUBMITTED and application.reference == reference
