"""Account, role and lock changes made by people: who may, under which rule, with an audit row.

Separation of duties (三员分立):
- the system administrator creates and deactivates accounts, and cannot grant roles;
- a security administrator asks for a role grant, and a second security administrator approves
  it; revocations take effect at once; the security administrator lifts account locks;
- the audit administrator reads the audit log and changes nothing;
- no administrator holds a reviewing or finance role, nobody sets another person's password (an
  administrator sends a reset link instead), and the audit log is append-only for everyone.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hengyang_cbec.audit.services import record
from hengyang_cbec.errors import PortalError

from . import lockout
from .context import acting
from .models import AccountLock, RoleChange, User
from .roles import (
    ADMIN_SITE_ROLES,
    ROLES_NEEDING_APPROVAL,
    STAFF_ROLES,
    Role,
    forget_roles,
    grant_role,
    has_role,
    role_conflict,
    roles_of,
)


class AccessRefused(PortalError):
    """A change that the separation of duties forbids; the message is for the person."""


def _require(actor, role: Role) -> None:
    if not has_role(actor, role):
        raise AccessRefused(_("Only a %(role)s may do this.") % {"role": role.label})


def _conflict_message(reason: str) -> str:
    return {
        "one person holds at most one of the three administrator roles": _(
            "One person holds at most one of the three administrator roles."
        ),
        "an administrator cannot hold a reviewing or finance role": _(
            "An administrator cannot hold a reviewing or finance role."
        ),
        "a finance supervisor cannot hold a reviewing or finance role": _(
            "A finance supervisor cannot hold a reviewing or finance role."
        ),
    }.get(reason, reason)


# --- Roles --------------------------------------------------------------------------------------


@transaction.atomic
def request_role(*, actor, user: User, role: Role, reason: str, ip=None) -> RoleChange:
    """A security administrator asks for a grant; roles needing approval wait for a second one."""
    _require(actor, Role.SECURITY_ADMINISTRATOR)
    role = Role(role)
    if role == Role.APPLICANT:
        raise AccessRefused(_("The applicant role comes with a confirmed e-mail address."))
    if actor.pk == user.pk:
        raise AccessRefused(_("Nobody grants a role to themselves."))
    user = User.objects.select_for_update().get(pk=user.pk)
    held = set(user.groups.values_list("name", flat=True))
    if role.value in held:
        raise AccessRefused(_("%(user)s holds this role already.") % {"user": user})
    conflict = role_conflict(held, role)
    if conflict:
        raise AccessRefused(_conflict_message(conflict))
    if RoleChange.objects.filter(user=user, role=role.value, status="pending").exists():
        raise AccessRefused(_("A grant of this role to %(user)s awaits approval.") % {"user": user})
    change = RoleChange.objects.create(
        user=user, role=role.value, reason=reason, requested_by=actor
    )
    record(
        action="role.grant_requested",
        actor=actor,
        actor_role=Role.SECURITY_ADMINISTRATOR.value,
        ip=ip,
        obj=change,
        data={"user": user.username, "role": role.value, "reason": reason},
    )
    if role not in ROLES_NEEDING_APPROVAL:
        _apply_grant(change, actor, ip)
    return change


@transaction.atomic
def decide_role(*, actor, change: RoleChange, approve: bool, ip=None) -> RoleChange:
    """The second security administrator approves or refuses a pending grant."""
    _require(actor, Role.SECURITY_ADMINISTRATOR)
    change = RoleChange.objects.select_for_update().get(pk=change.pk)
    if change.status != RoleChange.Status.PENDING:
        raise AccessRefused(_("This request was decided already."))
    if actor.pk in {change.requested_by_id, change.user_id}:
        raise AccessRefused(
            _("A second administrator, not the one who asked and not the holder, decides.")
        )
    if not approve:
        change.status = RoleChange.Status.REFUSED
        change.decided_by, change.decided_at = actor, timezone.now()
        change.save(update_fields=["status", "decided_by", "decided_at"])
        record(
            action="role.grant_refused",
            actor=actor,
            actor_role=Role.SECURITY_ADMINISTRATOR.value,
            ip=ip,
            obj=change,
            data={"user": change.user.username, "role": change.role},
        )
        return change
    user = User.objects.select_for_update().get(pk=change.user_id)
    conflict = role_conflict(set(user.groups.values_list("name", flat=True)), change.role)
    if conflict:
        raise AccessRefused(_conflict_message(conflict))
    _apply_grant(change, actor, ip)
    return change


def _apply_grant(change: RoleChange, actor, ip) -> None:
    change.status = RoleChange.Status.APPROVED
    change.decided_by, change.decided_at = actor, timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    user = change.user
    with acting(actor, ip):
        grant_role(user, Role(change.role))
        if Role(change.role) in ADMIN_SITE_ROLES and not user.is_staff:
            user.is_staff = True  # the Django admin is where these roles work
            user.save(update_fields=["is_staff"])
    record(
        action="role.granted",
        actor=actor,
        actor_role=Role.SECURITY_ADMINISTRATOR.value,
        ip=ip,
        obj=change,
        data={"user": user.username, "role": change.role, "requested_by": change.requested_by_id},
    )


@transaction.atomic
def revoke_role(*, actor, user: User, role: Role, reason: str, ip=None) -> RoleChange:
    """Taking a role away needs no second person: it only reduces what the holder can do."""
    _require(actor, Role.SECURITY_ADMINISTRATOR)
    role = Role(role)
    if actor.pk == user.pk:
        raise AccessRefused(_("Nobody changes their own roles."))
    if role.value not in roles_of(user):
        raise AccessRefused(_("%(user)s does not hold this role.") % {"user": user})
    from django.contrib.auth.models import Group

    with acting(actor, ip):
        user.groups.remove(Group.objects.get(name=role.value))
    forget_roles(user)
    now = timezone.now()
    change = RoleChange.objects.create(
        user=user,
        role=role.value,
        kind=RoleChange.Kind.REVOKE,
        reason=reason,
        status=RoleChange.Status.APPROVED,
        requested_by=actor,
        decided_by=actor,
        decided_at=now,
    )
    record(
        action="role.revoked",
        actor=actor,
        actor_role=Role.SECURITY_ADMINISTRATOR.value,
        ip=ip,
        obj=change,
        data={"user": user.username, "role": role.value, "reason": reason},
    )
    return change


# --- Locks --------------------------------------------------------------------------------------


def active_locks():
    return AccountLock.objects.filter(lifted_at__isnull=True, locked_until__gt=timezone.now())


@transaction.atomic
def lift_lock(*, actor, lock: AccountLock, reason: str, ip=None) -> AccountLock:
    _require(actor, Role.SECURITY_ADMINISTRATOR)
    lock = AccountLock.objects.select_for_update().get(pk=lock.pk)
    if lock.lifted_at is not None:
        raise AccessRefused(_("This lock was lifted already."))
    if lock.user_id == actor.pk:
        raise AccessRefused(_("Nobody lifts the lock on their own account."))
    lockout.reset(lock.username)
    lock.lifted_by, lock.lifted_at, lock.lift_reason = actor, timezone.now(), reason
    lock.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
    record(
        action="account.unlock",
        actor=actor,
        actor_role=Role.SECURITY_ADMINISTRATOR.value,
        ip=ip,
        obj=lock,
        data={"username": lock.username, "reason": reason},
    )
    return lock


# --- Accounts -----------------------------------------------------------------------------------


class _ResetForOneAccount(PasswordResetForm):
    """Django's reset mail for exactly this account, also when it has no usable password yet."""

    def __init__(self, user: User):
        super().__init__({"email": user.email})
        self._user = user

    def get_users(self, email):
        return [self._user] if self._user.is_active and self._user.email else []


def send_password_reset(*, user: User, request=None) -> None:
    """Administrators never set a password: the holder gets a link and chooses one."""
    form = _ResetForOneAccount(user)
    if form.is_valid():
        form.save(
            request=request,
            use_https=request.is_secure() if request else False,
            domain_override=None if request else settings.NOTICE_PUBLIC_URL.split("://", 1)[1],
        )


@transaction.atomic
def create_account(*, actor, request=None, ip=None, **fields) -> User:
    """An administrator creates an account without a password; the holder sets it by link."""
    _require(actor, Role.SYSTEM_ADMINISTRATOR)
    with acting(actor, ip):
        user = User(**fields, must_change_password=True)
        user.set_unusable_password()
        user.save()
    transaction.on_commit(lambda: send_password_reset(user=user, request=request))
    return user


def disable_dormant_staff(*, now=None) -> list[str]:
    """Disable staff accounts unused for DORMANT_STAFF_DAYS (never logged in: since creation)."""
    days = settings.DORMANT_STAFF_DAYS
    if not days:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=days)
    disabled = []
    staff_names = [role.value for role in STAFF_ROLES]
    candidates = (
        User.objects.filter(is_active=True)
        .filter(groups__name__in=staff_names)
        .distinct()
        .order_by("pk")
    )
    for user in candidates:
        last = user.last_login or user.date_joined
        if last >= cutoff:
            continue
        with transaction.atomic(), acting(None, None, via="dormant-account job"):
            User.objects.filter(pk=user.pk).update(is_active=False)
            record(
                action="account.disable_dormant",
                obj=user,
                data={"username": user.username, "last_used": last, "days": days},
            )
        disabled.append(user.username)
    return disabled
