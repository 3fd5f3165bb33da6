"""三员分立: system, security and audit administrators; four eyes on grants (SECURITY.md row 14)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction

from hengyang_cbec.accounts import services
from hengyang_cbec.accounts.models import AccountLock, RoleChange, User
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.models import AuditEvent
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins():
    return {
        "system": make_user(Role.SYSTEM_ADMINISTRATOR, username="sys", is_staff=True),
        "security": make_user(Role.SECURITY_ADMINISTRATOR, username="sec1"),
        "security2": make_user(Role.SECURITY_ADMINISTRATOR, username="sec2"),
        "audit": make_user(Role.AUDIT_ADMINISTRATOR, username="aud"),
    }


def test_a_grant_takes_effect_only_after_a_second_security_administrator(admins):
    clerk = make_user(username="clerk")
    change = services.request_role(
        actor=admins["security"], user=clerk, role=Role.COMMERCE_REVIEWER, reason="新入职"
    )
    assert change.status == "pending" and not has_role(clerk, Role.COMMERCE_REVIEWER)
    with pytest.raises(services.AccessRefused):
        services.decide_role(actor=admins["security"], change=change, approve=True)
    with pytest.raises(services.AccessRefused):  # the system administrator cannot grant roles
        services.decide_role(actor=admins["system"], change=change, approve=True)
    services.decide_role(actor=admins["security2"], change=change, approve=True)
    clerk = User.objects.get(pk=clerk.pk)
    assert has_role(clerk, Role.COMMERCE_REVIEWER)
    granted = AuditEvent.objects.get(action="role.granted")
    assert granted.actor == admins["security2"]
    added = AuditEvent.objects.get(action="account.role_add", object_id=str(clerk.pk))
    assert added.data["role"] == "commerce_reviewer" and added.actor == admins["security2"]


@pytest.mark.parametrize("admin_key", ["system", "security", "audit"])
@pytest.mark.parametrize(
    "role", [Role.COMMERCE_REVIEWER, Role.FINANCE_REVIEWER, Role.DISBURSEMENT_OFFICER]
)
def test_no_administrator_can_hold_a_reviewing_or_finance_role(admins, admin_key, role):
    target = admins[admin_key]
    actor = admins["security2"] if admin_key == "security" else admins["security"]
    with pytest.raises(services.AccessRefused):
        services.request_role(actor=actor, user=target, role=role, reason="x")
    # Nor by any other path: the shell, the admin site's group field, a data fix.
    with pytest.raises(ValidationError), transaction.atomic():
        target.groups.add(Group.objects.get(name=role.value))
    assert not has_role(User.objects.get(pk=target.pk), role)


def test_a_reviewer_cannot_become_an_administrator_and_nobody_holds_two_admin_roles(admins):
    reviewer = make_user(Role.COMMERCE_REVIEWER, username="rev")
    with pytest.raises(services.AccessRefused):
        services.request_role(
            actor=admins["security"], user=reviewer, role=Role.SYSTEM_ADMINISTRATOR, reason="x"
        )
    with pytest.raises(ValidationError), transaction.atomic():
        admins["audit"].groups.add(Group.objects.get(name=Role.SECURITY_ADMINISTRATOR.value))


def test_nobody_grants_themselves_a_role(admins):
    with pytest.raises(services.AccessRefused):
        services.request_role(
            actor=admins["security"], user=admins["security"], role=Role.AUDITOR, reason="x"
        )
    with pytest.raises(services.AccessRefused):  # only security administrators ask at all
        services.request_role(
            actor=admins["system"], user=make_user(username="x1"), role=Role.AUDITOR, reason="x"
        )


def test_the_system_administrator_cannot_give_himself_a_review_role_in_the_admin(client, admins):
    client.force_login(admins["system"])
    group = Group.objects.get(name=Role.COMMERCE_REVIEWER.value)
    page = client.get(f"/admin/accounts/user/{admins['system'].pk}/change/")
    assert page.status_code == 200
    assert b'name="groups"' not in page.content  # roles are read-only here
    client.post(
        f"/admin/accounts/user/{admins['system'].pk}/change/",
        {"username": "sys", "email": "sys@example.test", "is_active": "on", "groups": [group.pk]},
    )
    assert not has_role(User.objects.get(pk=admins["system"].pk), Role.COMMERCE_REVIEWER)
    # And no review URL opens for him.
    assert client.get("/staff/").status_code == 403


def test_no_administrator_can_set_another_users_password(client, admins):
    client.force_login(admins["system"])
    target = admins["audit"]
    url = f"/admin/accounts/user/{target.pk}/password/"
    assert client.get(url).status_code == 403
    response = client.post(url, {"password1": "Taken-Over-2026!", "password2": "Taken-Over-2026!"})
    assert response.status_code == 403
    target.refresh_from_db()
    assert not target.check_password("Taken-Over-2026!")


def test_the_system_administrator_creates_accounts_without_a_password_and_sends_a_link(
    client, admins, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admins["system"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/user/add/",
            {"username": "newclerk", "full_name": "李四", "email": "newclerk@example.test"},
        )
    assert response.status_code == 302
    created = User.objects.get(username="newclerk")
    assert not created.has_usable_password() and created.must_change_password
    assert len(mailoutbox) == 1 and "/accounts/reset/" in mailoutbox[0].body
    event = AuditEvent.objects.get(action="account.create", object_id=str(created.pk))
    assert event.actor == admins["system"] and event.data["via"] == "web"


def test_no_administrator_can_change_the_audit_log(client, admins):
    record = AuditEvent.objects.first() or AuditEvent.objects.order_by("-id").first()
    assert record is not None
    for key in ("system", "security", "audit"):
        client.force_login(admins[key])
        for url in (
            f"/admin/audit/auditevent/{record.pk}/change/",
            f"/admin/audit/auditevent/{record.pk}/delete/",
        ):
            response = client.post(url, {"action": "tampered"})
            assert response.status_code in {302, 403}
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=record.pk).update(action="tampered")
    assert AuditEvent.objects.get(pk=record.pk).action != "tampered"


def test_the_security_administrator_sees_locked_accounts_and_lifts_a_lock_with_a_reason(
    client, admins
):
    victim = make_user(Role.APPLICANT, username="victim")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "victim", "password": "wrong"})
    lock = AccountLock.objects.get(username="victim")
    assert lock.user == victim
    client.force_login(admins["security"])
    page = client.get("/staff/security/").content.decode()
    assert "victim" in page
    client.post(f"/staff/security/locks/{lock.pk}/lift/", {"reason": "电话核实本人"})
    lock.refresh_from_db()
    assert lock.lifted_by == admins["security"] and lock.lift_reason == "电话核实本人"
    client.logout()
    response = client.post(
        "/accounts/login/", {"username": "victim", "password": "correct-horse-battery-42"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="account.unlock")
    assert event.data["reason"] == "电话核实本人"


def test_only_the_security_administrator_opens_the_security_page(client, admins):
    for key, status in (("system", 403), ("audit", 403), ("security", 200)):
        client.force_login(admins[key])
        assert client.get("/staff/security/").status_code == status


def test_every_account_role_and_password_change_is_audited_on_every_path(admins):
    user = make_user(username="shelluser")  # created in the shell: audited as such
    created = AuditEvent.objects.get(action="account.create", object_id=str(user.pk))
    assert created.data["via"] == "shell" and created.actor is None
    user.email = "changed@example.test"
    user.save()
    changed = AuditEvent.objects.filter(action="account.update", object_id=str(user.pk)).last()
    assert changed.data["changed"]["email"]["to"] == "changed@example.test"
    user.set_password("Another-Long-pass-42")
    user.save()
    password = AuditEvent.objects.filter(
        action="account.password_change", object_id=str(user.pk)
    ).last()
    assert password.data["by_holder"] is False  # the shell, not the holder
    assert "Another" not in str(password.data)
    user.groups.add(Group.objects.get(name=Role.APPLICANT.value))
    user.groups.clear()
    assert AuditEvent.objects.filter(action="account.role_add", object_id=str(user.pk)).count() == 1
    assert (
        AuditEvent.objects.filter(action="account.role_remove", object_id=str(user.pk)).count() == 1
    )


def test_dormant_staff_accounts_are_disabled_by_the_command(settings, admins):
    from datetime import timedelta

    from django.utils import timezone

    settings.DORMANT_STAFF_DAYS = 30
    old = make_user(Role.FINANCE_REVIEWER, username="old")
    User.objects.filter(pk=old.pk).update(last_login=timezone.now() - timedelta(days=31))
    recent = make_user(Role.FINANCE_REVIEWER, username="recent")
    User.objects.filter(pk=recent.pk).update(last_login=timezone.now() - timedelta(days=5))
    shop = make_user(Role.APPLICANT, username="shop")
    User.objects.filter(pk=shop.pk).update(last_login=timezone.now() - timedelta(days=300))
    call_command("disable_dormant_staff", verbosity=0)
    assert not User.objects.get(pk=old.pk).is_active
    assert User.objects.get(pk=recent.pk).is_active
    assert User.objects.get(pk=shop.pk).is_active  # applicants are not staff
    assert AuditEvent.objects.filter(action="account.disable_dormant").count() == 1


def test_the_beat_schedule_runs_the_dormant_account_job(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["disable-dormant-staff"]
    assert entry["task"] == "hengyang_cbec.accounts.tasks.disable_dormant_staff"
    from hengyang_cbec.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


def test_role_changes_are_kept_with_who_asked_and_who_approved(admins):
    clerk = make_user(username="clerk2")
    change = services.request_role(
        actor=admins["security"], user=clerk, role=Role.AUDITOR, reason="审计局借调"
    )
    services.decide_role(actor=admins["security2"], change=change, approve=False)
    change = RoleChange.objects.get(pk=change.pk)
    assert (change.status, change.requested_by, change.decided_by) == (
        "refused",
        admins["security"],
        admins["security2"],
    )
    assert not has_role(User.objects.get(pk=clerk.pk), Role.AUDITOR)


def test_the_audit_administrator_reads_the_audit_log_and_nothing_else(client, admins):
    auditor = admins["audit"]
    auditor.is_staff = True
    auditor.save()
    client.force_login(auditor)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get("/staff/audit/").status_code == 200
    for url in ("/admin/accounts/user/", "/staff/", "/staff/security/", "/finance/reports/"):
        assert client.get(url).status_code == 403, url
    event = AuditEvent.objects.order_by("id").first()
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_an_approved_audit_administrator_reaches_the_admin_site(admins):
    clerk = make_user(username="newaudit")
    change = services.request_role(
        actor=admins["security"], user=clerk, role=Role.AUDIT_ADMINISTRATOR, reason="岗位调整"
    )
    services.decide_role(actor=admins["security2"], change=change, approve=True)
    clerk = User.objects.get(pk=clerk.pk)
    assert clerk.is_staff and has_role(clerk, Role.AUDIT_ADMINISTRATOR)
