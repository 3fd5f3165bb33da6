"""Signing up and confirming an e-mail address: the account side of registration.

The answer never tells whether a username or an e-mail address exists: every sign-up ends on the
same "check your e-mail" page, and when the address or the username is taken, the owner of the
address gets a message saying so instead of a confirmation link (and the password is hashed
anyway, so the time taken does not tell either).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from hengyang_cbec.audit.services import record

from .context import acting
from .models import User
from .roles import Role, grant_role


class _EmailVerification(PasswordResetTokenGenerator):
    """Tokens for the sign-up link; activating the account invalidates them."""

    key_salt = "applications.views.EmailVerification"


email_verification = _EmailVerification()


@dataclass(frozen=True)
class SignUp:
    username: str
    full_name: str
    email: str
    phone: str
    password: str
    language: str  # "zh-hans" or "en"


def sign_up(data: SignUp, *, base_url: str, ip: str | None = None) -> None:
    """Create an inactive account and mail its confirmation link; or tell the address's owner."""
    taken = (
        User.objects.filter(username__iexact=data.username).first()
        or User.objects.filter(email__iexact=data.email).first()
    )
    if taken is None:
        try:
            with transaction.atomic(), acting(None, ip, via="sign-up"):
                user = User(
                    username=data.username,
                    full_name=data.full_name,
                    email=data.email,
                    phone=data.phone,
                    preferred_language=data.language,
                    is_active=False,  # until the e-mail address is confirmed
                )
                user.set_password(data.password)
                user.save()
                record(action="account.register", actor=user, ip=ip, obj=user)
        except IntegrityError:  # the same name or address registered a moment ago
            taken = User.objects.filter(email__iexact=data.email).first()
        else:
            transaction.on_commit(lambda: send_verification(user, base_url=base_url))
            return
    make_password(data.password)  # the same work as a real sign-up
    record(
        action="account.register_refused",
        ip=ip,
        result="refused",
        data={"username": data.username[:150], "email_exists": bool(taken)},
    )
    transaction.on_commit(lambda: _tell_owner(data, base_url=base_url))


def _tell_owner(data: SignUp, *, base_url: str) -> None:
    """The address's owner learns that it (or the username) is in use; nobody else does."""
    owner = User.objects.filter(email__iexact=data.email).first()
    with translation.override(data.language):
        body = render_to_string(
            "emails/sign_up_taken.txt",
            {
                "owner": owner,
                "username": data.username,
                "login": base_url + reverse("login"),
                "reset": base_url + reverse("password_reset"),
                "register": base_url + reverse("applications:register"),
            },
        )
        send_mail(_("About your sign-up on the subsidy portal"), body, None, [data.email])


def send_verification(user: User, *, base_url: str) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_verification.make_token(user)
    link = base_url + reverse("applications:verify", args=[uid, token])
    with translation.override(user.preferred_language or "zh-hans"):
        body = render_to_string("emails/verify_email.txt", {"user": user, "link": link})
        send_mail(_("Confirm your e-mail address"), body, None, [user.email])


def resend_verification(email: str, *, base_url: str, ip: str | None = None) -> None:
    """Send the link again to an account still waiting for it; otherwise do nothing, silently."""
    user = User.objects.filter(email__iexact=email, is_active=False, last_login=None).first()
    if user is None or user.groups.exists():
        return
    record(action="account.verification_resent", actor=user, ip=ip, obj=user)
    transaction.on_commit(lambda: send_verification(user, base_url=base_url))


def user_from_link(uidb64: str, token: str) -> User | None:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    if user.is_active or not email_verification.check_token(user, token):
        return None
    return user


@transaction.atomic
def confirm_email(user: User, *, ip: str | None = None) -> User:
    """The link was opened: the account becomes an active applicant."""
    user = User.objects.select_for_update().get(pk=user.pk)
    with acting(user, ip, via="sign-up"):
        user.is_active = True
        user.save(update_fields=["is_active"])
        grant_role(user, Role.APPLICANT)
    record(action="account.verify_email", actor=user, ip=ip, obj=user)
    return user
