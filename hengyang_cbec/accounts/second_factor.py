"""The second factor: TOTP (django-otp) with single-use recovery codes (SECURITY.md row 4).

Staff roles, the Django admin and superusers must use it; an applicant may turn it on. A code is
accepted once (django-otp keeps the last time step used), wrong codes make the device wait longer
each time (OTP_TOTP_THROTTLE_FACTOR) and the page is rate-limited per account and address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hengyang_cbec.audit.services import record

from .roles import STAFF_ROLES, roles_of

DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"


def required_for(user) -> bool:
    """Staff roles, admin-site users and superusers cannot log in with a password alone."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return bool(roles_of(user) & {role.value for role in STAFF_ROLES})


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def used_by(user) -> bool:
    """Whether this user must give a code at login (required, or turned on by themselves)."""
    return required_for(user) or confirmed_device(user) is not None


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device an enrolment shows as a QR code (one per user, kept until used)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=DEVICE_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    import segno

    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def secret_base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


def current_code(device: TOTPDevice) -> str:
    """The code an authenticator shows now (demo command and tests)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(code).zfill(device.digits)


@dataclass
class Verification:
    device: TOTPDevice | StaticDevice | None
    wait_seconds: int = 0

    @property
    def ok(self) -> bool:
        return self.device is not None


@transaction.atomic
def verify(user, token: str, *, device: TOTPDevice | None = None, ip: str | None = None):
    """Check a TOTP code or a recovery code; audit the outcome. `device` confirms an enrolment."""
    token = "".join(token.split())
    totp_device = device or confirmed_device(user)
    if totp_device is not None:
        totp_device = TOTPDevice.objects.select_for_update().get(pk=totp_device.pk)
        allowed, _info = totp_device.verify_is_allowed()
        if not allowed:
            record(action="second_factor.throttled", actor=user, ip=ip, obj=user, result="refused")
            return Verification(None, wait_seconds=_wait(totp_device))
        if token.isdigit() and totp_device.verify_token(token):
            if not totp_device.confirmed:
                totp_device.confirmed = True
                totp_device.save(update_fields=["confirmed"])
                record(action="second_factor.enrol", actor=user, ip=ip, obj=user)
            return Verification(totp_device)
    if device is None:
        for static in StaticDevice.objects.filter(user=user, confirmed=True):
            if static.verify_token(token.lower()):
                left = static.token_set.count()
                record(
                    action="second_factor.recovery_code_used",
                    actor=user,
                    ip=ip,
                    obj=user,
                    data={"codes_left": left},
                )
                return Verification(static)
    record(action="second_factor.failed", actor=user, ip=ip, obj=user, result="refused")
    return Verification(None)


def _wait(device: TOTPDevice) -> int:
    from django.utils import timezone

    device.refresh_from_db(fields=["throttling_failure_timestamp", "throttling_failure_count"])
    if not device.throttling_failure_timestamp or not device.throttling_failure_count:
        return 0
    delay = settings.OTP_TOTP_THROTTLE_FACTOR * 2 ** (device.throttling_failure_count - 1)
    elapsed = (timezone.now() - device.throttling_failure_timestamp).total_seconds()
    return max(0, int(delay - elapsed + 0.999))


@transaction.atomic
def new_recovery_codes(user, *, ip: str | None = None) -> list[str]:
    """Replace the user's recovery codes; each works once. Returned once, to show, never stored."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [
        f"{secrets.token_hex(4)}-{secrets.token_hex(2)}"
        for _ in range(settings.RECOVERY_CODE_COUNT)
    ]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    record(
        action="second_factor.recovery_codes_issued",
        actor=user,
        ip=ip,
        obj=user,
        data={"count": len(codes)},
    )
    return codes


# --- Demo (embedded profile only) ---------------------------------------------------------------


def demo_key(username: str) -> str:
    """A fixed, published seed per demo account, so `manage.py demo_otp` can print its code."""
    return hashlib.sha256(f"hengyang-cbec-demo-totp:{username}".encode()).hexdigest()[:40]


def seed_demo_device(user) -> TOTPDevice:
    if not settings.DEMO_ALLOWED:
        raise RuntimeError("demo second-factor seeds are never created in production")
    device, _created = TOTPDevice.objects.update_or_create(
        user=user,
        name="demo",
        defaults={"key": demo_key(user.username), "confirmed": True},
    )
    return device
