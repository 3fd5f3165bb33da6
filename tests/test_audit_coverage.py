"""SECURITY.md 33: every change made through the admin writes an audit event.

The walk takes every model registered with the admin site whose change view lets its
administrators save, opens the change page of an instance, submits the form unchanged as a browser
would (every input, select and textarea as rendered, inlines and management forms included) and
fails when the save wrote nothing to the audit log.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from tests.factories import make_user
from tests.portal_walk import submitted_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(client, password):
    user = make_user(
        Role.POLICY_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR, username="admin-walker", is_staff=True
    )
    client.login(username=user.username, password=password)
    return user


@pytest.fixture
def one_of_each(catalogue, administrator):
    """At least one instance of every model the walk may meet."""
    from django.contrib.auth.models import Group

    from policies.models import ExternalPolicy, FundSource, ParameterValue
    from reviews.models import BudgetAllocation

    make_user(Role.APPLICANT, username="walked-user")
    ExternalPolicy.objects.get_or_create(
        code="PROV-2025-CBEC", defaults={"title_zh": "省级跨境电商政策", "title_en": "Provincial"}
    )
    assert Group.objects.exists() and ParameterValue.objects.exists()
    BudgetAllocation.objects.create(
        fiscal_year=2026, fund_source=FundSource.objects.first(), amount_cny="1000000.00"
    )


def test_every_admin_change_view_writes_an_audit_event(client, administrator, one_of_each):
    walked, skipped = [], []
    for model, model_admin in admin.site._registry.items():
        request = type("R", (), {"user": administrator, "method": "GET"})()
        instance = model._default_manager.order_by("pk").first()
        if not model_admin.has_change_permission(request, None):
            skipped.append(model._meta.label)
            continue
        assert instance is not None, f"no {model._meta.label} to walk: add one to one_of_each"
        if not model_admin.has_change_permission(request, instance):
            skipped.append(model._meta.label)
            continue
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[instance.pk])
        page = client.get(url)
        assert page.status_code == 200, url
        data = submitted_form(page.content.decode(), form_id=f"{opts.model_name}_form")
        data["_save"] = ["Save"]
        before = AuditEvent.objects.count()
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.content.decode()[:2000])
        written = AuditEvent.objects.filter(
            action="admin.change", object_id=str(instance.pk), actor=administrator
        )
        assert AuditEvent.objects.count() > before and written.exists(), (
            f"saving {opts.label} in the admin wrote nothing to the audit log"
        )
        walked.append(opts.label)
    assert {
        "accounts.User",
        "policies.ExternalPolicy",
        "policies.OverlapGroup",
        "reviews.BudgetAllocation",
    } <= set(walked), walked
    assert "audit.AuditEvent" in skipped  # read-only for everybody


def test_a_policy_parameter_value_added_in_the_admin_is_audited_with_its_value(
    client, administrator
):
    from policies.models import Parameter

    parameter = Parameter.objects.get(key="M16.rate")
    response = client.post(
        "/admin/policies/parametervalue/add/",
        {"parameter": parameter.pk, "text": "0.12", "effective_from": "2027-01-01"},
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="parameter.add_value")
    assert event.actor == administrator and event.ip == "10.9.8.7"
    assert event.data["parameter"] == "M16.rate" and event.data["text"] == "0.12"
    assert event.data["effective_from"] == "2027-01-01"
    assert event.data["previous_value_closed"]["effective_to"] == "2026-12-31"
    assert AuditEvent.objects.filter(action="admin.add", actor=administrator).exists()


# --- The portal's POST views ----------------------------------------------------------------------


def test_every_portal_post_view_is_walked_or_listed_as_not_security_relevant():
    """A new POST view fails here until the walk performs it (portal_walk.STEPS) or it is listed,
    with its reason, in portal_walk.NOT_AUDITED."""
    from tests.portal_walk import NOT_AUDITED, STEPS, post_routes

    routed = {route.name for route in post_routes()}
    unlisted = routed - set(STEPS) - set(NOT_AUDITED)
    assert not unlisted, f"POST views neither walked nor listed as not audited: {sorted(unlisted)}"
    stale = (set(STEPS) | set(NOT_AUDITED)) - routed
    assert not stale, f"walked or listed names that take no POST any more: {sorted(stale)}"
    # The discovery itself finds the views: a sample of each kind of declaration.
    assert {"login", "logout", "reviews:take", "applications:members", "notices:verify"} <= routed


def _page_errors(response) -> str:
    """What a re-shown form says went wrong (for the failure message)."""
    import re

    text = response.content.decode(errors="replace")
    found = re.findall(r"(?:invalid-feedback|alert-danger|errorlist)[^>]*>([^<]{1,200})", text)
    return " | ".join(found)


def _missing_fields(event: AuditEvent, *, acting: bool) -> list[str]:
    """SECURITY.md 33: time with its zone, user, IP, action, object and result."""
    from django.utils import timezone

    missing = []
    if event.created_at is None or not timezone.is_aware(event.created_at):
        missing.append("time and zone")
    if acting and event.actor_id is None:
        missing.append("user")
    if not event.ip:
        missing.append("IP")
    if not (event.object_type and event.object_id) and event.action not in _NO_SINGLE_OBJECT:
        missing.append("object")
    if not event.result:
        missing.append("result")
    return missing


# Actions about no single object (each names its objects in its data instead).
_NO_SINGLE_OBJECT = {
    "account.password_reset_requested",  # data: the accounts the address matched, if any
}


def test_every_portal_post_view_writes_an_audit_event(client, catalogue, settings):
    """Each POST view, done validly by the persona it is for, writes its audit event."""
    from tests.portal_walk import STEPS, World, post_routes

    settings.RATE_LIMITS = {name: {} for name in settings.RATE_LIMITS}  # the walk posts a lot
    world = World()
    walked, silent, failed, incomplete = [], [], [], []
    for route in post_routes():
        for step in STEPS.get(route.name, lambda w: [])(world):
            client.logout()
            if step.user is not None:  # as stored now (an earlier step may change a password)
                client.force_login(type(step.user).objects.get(pk=step.user.pk))
            if step.prepare is not None:
                step.prepare(client)
            last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            data = step.data(client) if callable(step.data) else step.data
            response = client.post(step.url, data, **step.headers)
            if response.status_code >= 400:
                failed.append((route.name, step.url, response.status_code))
                continue
            written = set(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))
            if step.expect not in written:
                answer = response.headers.get("Location") or _page_errors(response)
                silent.append((route.name, step.expect, sorted(written), answer))
            for event in AuditEvent.objects.filter(pk__gt=last, action=step.expect):
                missing = _missing_fields(event, acting=step.user is not None)
                if missing:
                    incomplete.append((route.name, step.expect, missing))
            walked.append(route.name)
    assert not failed, f"valid actions that were refused: {failed}"
    assert not silent, f"POST views that did not write their audit event: {silent}"
    assert not incomplete, f"audit events without time and zone, user, IP or object: {incomplete}"
    assert len(set(walked)) >= 40, sorted(set(walked))


def test_every_file_download_is_walked():
    """A view that answers with a file fails here until the download walk covers it or it is
    listed, with its reason, in portal_walk.NOT_AUDITED_DOWNLOADS."""
    from tests.portal_walk import DOWNLOADS, NOT_AUDITED_DOWNLOADS, download_routes

    found = set(download_routes())
    known = set(DOWNLOADS) | set(NOT_AUDITED_DOWNLOADS)
    assert not set(DOWNLOADS) & set(NOT_AUDITED_DOWNLOADS)
    assert found == known, (
        f"not walked: {sorted(found - known)}; no file any more: {sorted(known - found)}"
    )
    # The discovery itself finds the files: one of each kind of answer.
    assert {"reviews:evidence_download", "reviews:finance_report_export"} <= found


def test_every_file_download_writes_an_audit_event(client, catalogue, settings):
    from tests.portal_walk import DOWNLOADS, World

    settings.RATE_LIMITS = {name: {} for name in settings.RATE_LIMITS}
    world = World()
    silent = []
    for name, build in DOWNLOADS.items():
        user, url, expect = build(world)
        client.logout()
        client.force_login(type(user).objects.get(pk=user.pk))
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        # SECURITY.md 21: a named attachment (an image shown on the review page: inline), never
        # sniffed, never kept in a shared cache.
        disposition = response.get("Content-Disposition", "")
        inline = name == "reviews:evidence_inline"
        assert disposition.startswith("inline;" if inline else "attachment;"), (name, disposition)
        assert "filename*=UTF-8''" in disposition, (name, disposition)
        assert response.get("X-Content-Type-Options") == "nosniff", name
        assert "no-store" in response.get("Cache-Control", ""), name
        b"".join(response.streaming_content)  # the whole file leaves
        written = set(AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True))
        if expect not in written:
            silent.append((name, expect, sorted(written)))
    assert not silent, f"downloads that wrote no audit event: {silent}"


def test_a_download_not_audited_still_leaves_as_a_named_attachment_never_sniffed(client, catalogue):
    """The blank statistics template (portal_walk.NOT_AUDITED_DOWNLOADS) writes no audit event but
    keeps the safe headers of every file (SECURITY.md 21)."""
    from tests.portal_walk import NOT_AUDITED_DOWNLOADS

    assert set(NOT_AUDITED_DOWNLOADS) == {"reviews:statistics_template"}
    client.force_login(make_user(Role.FINANCE_REVIEWER, username="template-reader"))
    before = AuditEvent.objects.count()
    response = client.get(reverse("reviews:statistics_template", args=["customs"]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(b"PK")  # an XLSX workbook
    assert AuditEvent.objects.count() == before
