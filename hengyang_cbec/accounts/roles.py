"""The roles of DESIGN.md §1 as groups with permissions.

Groups are synchronised after every migrate from ROLE_PERMISSIONS; an app that adds a permission a
role needs adds it here. Role membership is the only source of staff powers: is_superuser grants
nothing in the portal's own services.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    COMMERCE_REVIEWER = "commerce_reviewer", _("Commerce reviewer")
    CO_REVIEWER = "co_reviewer", _("Co-reviewer")
    FINANCE_REVIEWER = "finance_reviewer", _("Finance reviewer")
    APPROVAL_REGISTRAR = "approval_registrar", _("Approval registrar")
    DISBURSEMENT_OFFICER = "disbursement_officer", _("Disbursement officer")
    POLICY_ADMINISTRATOR = "policy_administrator", _("Policy administrator")
    AUDITOR = "auditor", _("Auditor")
    # Finance supervision (财政监督) of the Municipal Bureau of Finance: like the auditor, it checks
    # the record of the subsidies after the fact (the auditor's dossier); it decides nothing.
    FINANCE_SUPERVISOR = "finance_supervisor", _("Finance supervisor")
    SYSTEM_ADMINISTRATOR = "system_administrator", _("System administrator")
    SECURITY_ADMINISTRATOR = "security_administrator", _("Security administrator")
    AUDIT_ADMINISTRATOR = "audit_administrator", _("Audit administrator")


STAFF_ROLES = frozenset(Role) - {Role.APPLICANT}
# Roles that work on applications in the bureau's workflow.
REVIEW_ROLES = frozenset(
    {
        Role.COMMERCE_REVIEWER,
        Role.CO_REVIEWER,
        Role.FINANCE_REVIEWER,
        Role.APPROVAL_REGISTRAR,
        Role.DISBURSEMENT_OFFICER,
        Role.AUDITOR,
    }
)
# Roles that use the Django admin (catalogue maintenance, accounts, reading the audit log).
ADMIN_SITE_ROLES = frozenset(
    {Role.POLICY_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR, Role.AUDIT_ADMINISTRATOR}
)
# The three separated administrators (三员分立): accounts, roles and locks, the audit log. One
# person holds at most one of them, and none of them a reviewing or finance role.
ADMINISTRATOR_ROLES = frozenset(
    {Role.SYSTEM_ADMINISTRATOR, Role.SECURITY_ADMINISTRATOR, Role.AUDIT_ADMINISTRATOR}
)
# Roles that decide on applications or move money.
REVIEWING_AND_FINANCE_ROLES = frozenset(
    {
        Role.COMMERCE_REVIEWER,
        Role.CO_REVIEWER,
        Role.FINANCE_REVIEWER,
        Role.APPROVAL_REGISTRAR,
        Role.DISBURSEMENT_OFFICER,
    }
)
# A grant of one of these needs a second security administrator's approval.
ROLES_NEEDING_APPROVAL = (
    REVIEWING_AND_FINANCE_ROLES
    | ADMINISTRATOR_ROLES
    | {
        Role.POLICY_ADMINISTRATOR,
        Role.AUDITOR,
        Role.FINANCE_SUPERVISOR,
    }
)


def role_conflict(held: set[str] | frozenset[str], role: Role | str) -> str | None:
    """Why a holder of `held` may not also hold `role` (None when they may)."""
    role = Role(role)
    held = {Role(name) for name in held if name in Role.values} - {role}
    if role in ADMINISTRATOR_ROLES and held & ADMINISTRATOR_ROLES:
        return "one person holds at most one of the three administrator roles"
    if role in ADMINISTRATOR_ROLES and held & REVIEWING_AND_FINANCE_ROLES:
        return "an administrator cannot hold a reviewing or finance role"
    if role in REVIEWING_AND_FINANCE_ROLES and held & ADMINISTRATOR_ROLES:
        return "an administrator cannot hold a reviewing or finance role"
    if role == Role.FINANCE_SUPERVISOR and held & REVIEWING_AND_FINANCE_ROLES:
        return "a finance supervisor cannot hold a reviewing or finance role"
    if role in REVIEWING_AND_FINANCE_ROLES and Role.FINANCE_SUPERVISOR in held:
        return "a finance supervisor cannot hold a reviewing or finance role"
    return None


# "app_label.codename" of every permission each role holds.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.APPLICANT: ("accounts.act_as_applicant",),
    Role.COMMERCE_REVIEWER: ("accounts.review_commerce",),
    Role.CO_REVIEWER: ("accounts.give_opinion",),
    Role.FINANCE_REVIEWER: ("accounts.review_finance",),
    Role.APPROVAL_REGISTRAR: ("accounts.register_approval",),
    Role.DISBURSEMENT_OFFICER: ("accounts.disburse",),
    Role.POLICY_ADMINISTRATOR: (
        "accounts.administer_policy",
        "policies.view_policy",
        "policies.view_measure",
        "policies.view_parameter",
        "policies.add_parametervalue",
        "policies.view_parametervalue",
        "policies.add_interpretation",
        "policies.change_interpretation",
        "policies.view_interpretation",
        "policies.add_interpretationeffect",
        "policies.view_interpretationeffect",
        "policies.view_overlapgroup",
        "policies.change_overlapgroup",
        "policies.add_externalpolicy",
        "policies.change_externalpolicy",
        "policies.view_externalpolicy",
        "policies.view_fundsource",
        "policies.view_place",
        "reviews.view_budgetallocation",
        "reviews.add_budgetallocation",
        "reviews.change_budgetallocation",
    ),
    Role.AUDITOR: ("accounts.audit",),
    # Role membership alone opens the auditor's dossier to finance supervisors (no model access).
    Role.FINANCE_SUPERVISOR: (),
    Role.SYSTEM_ADMINISTRATOR: (
        "accounts.administer_accounts",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
    ),
    Role.SECURITY_ADMINISTRATOR: ("accounts.administer_security",),
    # The audit log, read-only, in the admin site (AuditEventAdmin refuses every change).
    Role.AUDIT_ADMINISTRATOR: ("accounts.audit_log", "audit.view_auditevent"),
}


def sync_role_groups(**kwargs) -> None:
    """Create one group per role and give it exactly the permissions listed (idempotent)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    # post_migrate reaches this receiver before auth has created the permissions of later apps.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        wanted = []
        for name in names:
            app_label, codename = name.split(".", 1)
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def roles_of(user) -> frozenset[str]:
    """The role names of a user, cached on the instance for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_portal_roles", None)
    if cached is None:
        valid = {role.value for role in Role}
        cached = frozenset(
            name for name in user.groups.values_list("name", flat=True) if name in valid
        )
        user._portal_roles = cached
    return cached


def has_role(user, *roles: Role | str) -> bool:
    """True when the user holds at least one of the roles."""
    held = roles_of(user)
    return any(str(role) in held for role in roles)


def grant_role(user, role: Role) -> None:
    """Add the group (low level: services check who may; the groups signal checks conflicts)."""
    user.groups.add(Group.objects.get(name=role.value))
    forget_roles(user)


def forget_roles(user) -> None:
    if hasattr(user, "_portal_roles"):
        del user._portal_roles
