"""The password rule of MLPS level 3 (SECURITY.md row 5), its messages in Chinese."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.roles import Role
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def refusal(password: str, user=None) -> list[str]:
    with translation.override("zh-hans"):
        try:
            validate_password(password, user)
        except ValidationError as exc:
            return exc.messages
    return []


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("zzzzzzzzzzzzzzzz", "至少使用以下字符中的 3 类"),
        ("P@ssw0rd2025", "常见密码稍作改动"),
        ("abcABC123456", "常见密码稍作改动"),
        ("Qw3!short", "密码太短，至少须包含 12 个字符。"),
        ("password", "这个密码太常见了。"),
        ("918273645546372819", "密码只包含数字。"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(password, reason):
    messages = refusal(password)
    assert any(reason in message for message in messages), messages


def test_a_password_close_to_the_users_own_name_is_refused():
    user = User(username="wangfang2026", full_name="Wang Fang", email="wangfang@example.test")
    assert any("太相似" in message for message in refusal("Wangfang2026!", user))


def test_a_64_character_passphrase_works_and_is_not_truncated(client):
    long = "衡阳跨境-Subsidy-" + "x7" * 25 + "Q"
    assert len(long) == 64 and refusal(long) == []
    user = make_user(Role.APPLICANT, username="longpass")
    user.set_password(long)
    user.save()
    assert user.check_password(long)
    assert not user.check_password(long[:63])


def test_the_sign_up_form_refuses_a_weak_password_in_chinese(client):
    response = client.post(
        "/register/",
        {
            "username": "newshop",
            "full_name": "张三",
            "email": "newshop@example.test",
            "phone": "13800000000",
            "password1": "P@ssw0rd2025",
            "password2": "P@ssw0rd2025",
        },
    )
    assert response.status_code == 200
    assert "该密码只是对常见密码稍作改动。" in response.content.decode()


def test_an_account_an_administrator_created_must_choose_a_password_first(client):
    user = make_user(Role.APPLICANT, username="created", must_change_password=True)
    client.force_login(user)
    response = client.get("/my/")
    assert response.status_code == 302 and response.url == "/accounts/password_change/"
    new = "Own-Choice-passphrase-9"
    client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    user.refresh_from_db()
    assert not user.must_change_password and user.password_changed_at is not None
    assert client.get("/my/").status_code == 200
