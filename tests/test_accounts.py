from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command

from hengyang_cbec.accounts.demo import DEMO_ACCOUNTS
from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.roles import ROLE_PERMISSIONS, Role, has_role

from .factories import make_user

pytestmark = pytest.mark.django_db


def test_every_role_of_the_design_exists_as_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


def test_role_groups_carry_their_listed_permissions():
    group = Group.objects.get(name=Role.COMMERCE_REVIEWER)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert "review_commerce" in codenames
    assert "review_finance" not in codenames
    assert all("." in name for names in ROLE_PERMISSIONS.values() for name in names)


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_every_role_group_has_exactly_its_listed_permissions():
    """flush ends as migrate does (post_migrate); the groups are synced once, for every app."""
    call_command("flush", interactive=False, verbosity=0)
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        held = group.permissions.values_list("content_type__app_label", "codename")
        assert {f"{app}.{codename}" for app, codename in held} == set(names), role


def test_a_superuser_without_roles_holds_no_role():
    boss = make_user(username="root", is_superuser=True, is_staff=True)
    assert not has_role(boss, *Role)


def test_an_inactive_user_holds_no_role():
    reviewer = make_user(Role.COMMERCE_REVIEWER, is_active=False)
    assert not has_role(reviewer, Role.COMMERCE_REVIEWER)


def test_seed_demo_is_idempotent_and_gives_each_account_its_roles(settings):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS]).count() == len(
        DEMO_ACCOUNTS
    )
    for account in DEMO_ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.check_password(settings.DEMO_PASSWORD)
        assert not user.is_superuser
        assert has_role(user, *account.roles)
    assert not has_role(User.objects.get(username="enterprise"), Role.COMMERCE_REVIEWER)


def test_two_users_cannot_share_an_email_address_in_any_case():
    from django.db import IntegrityError

    make_user(username="a", email="Same@Example.test")
    with pytest.raises(IntegrityError):
        make_user(username="b", email="same@example.test")


def test_staff_workspace_needs_a_review_role(client, applicant, commerce_reviewer, password):
    assert client.get("/staff/").status_code == 302  # anonymous → login page
    client.login(username=applicant.username, password=password)
    assert client.get("/staff/").status_code == 403
    client.login(username=commerce_reviewer.username, password=password)
    response = client.get("/staff/")
    assert response.status_code == 200
    assert b'data-role="commerce_reviewer"' in response.content


def test_login_and_logout_through_the_real_pages(client, applicant, password):
    response = client.post(
        "/accounts/login/", {"username": applicant.username, "password": password}
    )
    assert response.status_code == 302
    session_key = client.session.session_key
    assert client.post("/accounts/logout/").status_code == 302
    assert client.session.session_key != session_key
    assert "_auth_user_id" not in client.session


def test_wrong_password_shows_a_translated_error(client, applicant):
    response = client.post("/accounts/login/", {"username": applicant.username, "password": "no"})
    assert response.status_code == 200
    assert "请输入一个正确的用户名和密码" in response.content.decode()


def test_password_reset_mails_a_single_use_link(client, applicant):
    response = client.post("/accounts/password_reset/", {"email": applicant.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get(f"/{path}", follow=True)
    assert response.context["validlink"]
    new = "a-Fresh-passphrase-2026"
    client.post(response.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    applicant.refresh_from_db()
    assert applicant.check_password(new)
    again = client.get(f"/{path}", follow=True)
    assert not again.context["validlink"]


def test_password_reset_for_an_unknown_address_answers_the_same(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert response.url == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_password_change_requires_login_and_works(client, applicant, password):
    assert client.get("/accounts/password_change/").status_code == 302
    client.login(username=applicant.username, password=password)
    new = "another-Long-passphrase-7"
    response = client.post(
        "/accounts/password_change/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.check_password(new)


def test_system_administrator_cannot_make_anyone_a_superuser(client, password):
    sysadmin = make_user(Role.SYSTEM_ADMINISTRATOR, username="it", is_staff=True)
    target = make_user(username="target")
    client.login(username=sysadmin.username, password=password)
    response = client.get(f"/admin/accounts/user/{target.pk}/change/")
    assert response.status_code == 200
    assert b'name="is_superuser"' not in response.content


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.COMMERCE_REVIEWER, Role.AUDITOR])
def test_someone_the_admin_site_is_not_for_gets_403_there_not_a_redirect_loop(client, role):
    """SECURITY.md row 12 on the admin path: logged in (staff with their code given) without the
    right to the admin site."""
    user = make_user(role, username=f"no_admin_{role.value}")
    client.force_login(user)
    for url in ("/admin/", "/admin/accounts/user/", "/admin/audit/auditevent/"):
        response = client.get(url, follow=True)
        assert response.status_code == 403, (url, response.redirect_chain)
        assert "_auth_user_id" in client.session  # refused, not logged out


def test_a_password_reset_link_is_short_lived(client, applicant, settings):
    """SECURITY.md row 7: the link dies after PASSWORD_RESET_TIMEOUT (one hour)."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post("/accounts/password_reset/", {"email": applicant.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert client.get(path, follow=True).context["validlink"]
    client.cookies.clear()
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert not client.get(path, follow=True).context["validlink"]
