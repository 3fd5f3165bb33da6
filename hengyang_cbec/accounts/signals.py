"""Every account, role and password change is an audit event, whatever path made it.

The receivers sit on the model, so the admin site, the portal's pages, a service called from the
shell and a user changing their own password all write the same rows. Role combinations that
separation of duties forbids are refused here too, so no path can create them.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from hengyang_cbec.audit.services import record

from .context import current_actor
from .models import User
from .roles import forget_roles, role_conflict

# Fields whose change is an account change worth a row (the password is handled on its own).
AUDITED_FIELDS = (
    "username",
    "email",
    "full_name",
    "phone",
    "unit",
    "is_active",
    "is_staff",
    "is_superuser",
    "must_change_password",
)


def _record(action: str, user: User, data: dict) -> None:
    actor = current_actor()
    acting_user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    record(
        action=action,
        actor=acting_user,
        ip=actor.ip,
        obj=user,
        data={**data, "via": actor.via, "username": user.username},
    )


@receiver(pre_save, sender=User, dispatch_uid="accounts.audit_before")
def remember_previous(sender, instance: User, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._audit_before = None
        return
    instance._audit_before = (
        User.objects.filter(pk=instance.pk).values(*AUDITED_FIELDS, "password").first()
    )
    if instance._password is not None:  # set_password() was called on this instance
        instance.password_changed_at = timezone.now()


@receiver(post_save, sender=User, dispatch_uid="accounts.audit_after")
def audit_account_change(sender, instance: User, created: bool, raw=False, **kwargs):
    if raw:
        return
    if created:
        _record(
            "account.create",
            instance,
            {"fields": {name: getattr(instance, name) for name in AUDITED_FIELDS}},
        )
        return
    before = getattr(instance, "_audit_before", None) or {}
    changed = {
        name: {"from": before.get(name), "to": getattr(instance, name)}
        for name in AUDITED_FIELDS
        if name in before and before[name] != getattr(instance, name)
    }
    if changed:
        _record("account.update", instance, {"changed": changed})
    if before and before.get("password") != instance.password:
        actor = current_actor().user
        own = getattr(actor, "pk", None) == instance.pk
        # Whose hand changed it; the password itself is never written (row 35).
        _record("account.password_change", instance, {"by_holder": own})


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="accounts.audit_groups")
def guard_and_audit_roles(sender, instance, action, reverse, model, pk_set, **kwargs):
    if reverse:  # group.user_set.add(...): check each user
        users = list(User.objects.filter(pk__in=pk_set or ()))
        groups = [instance]
    else:
        users = [instance]
        groups = list(Group.objects.filter(pk__in=pk_set or ()))
    if action == "pre_add":
        for user in users:
            held = set(user.groups.values_list("name", flat=True))
            for group in groups:
                if group.name in held:
                    continue
                reason = role_conflict(held, group.name) if group.name in _role_names() else None
                if reason:
                    raise ValidationError(reason, code="role_conflict")
                held.add(group.name)
    elif action in {"post_add", "post_remove"}:
        for user in users:
            forget_roles(user)
            for group in groups:
                _record(
                    "account.role_add" if action == "post_add" else "account.role_remove",
                    user,
                    {"role": group.name},
                )
    elif action == "pre_clear":
        for user in users:
            user._audit_cleared = list(user.groups.values_list("name", flat=True))
    elif action == "post_clear":
        for user in users:
            forget_roles(user)
            for name in getattr(user, "_audit_cleared", []):
                _record("account.role_remove", user, {"role": name})


def _role_names() -> set[str]:
    from .roles import Role

    return set(Role.values)
