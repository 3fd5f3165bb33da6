"""The role-aware main navigation.

Each app adds its entries to NAV_ITEMS; an entry appears when its predicate holds for the user and
its URL exists (so an entry can be declared before its page is built).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .accounts.permissions import is_applicant, is_reviewer, may_use_admin_site
from .accounts.roles import Role, has_role


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    visible: Callable[[object], bool]
    section: str  # "public", "applicant" or "staff": used for styling and tests


def _everyone(user) -> bool:
    return True


def is_disbursement_officer(user) -> bool:
    return has_role(user, Role.DISBURSEMENT_OFFICER)


def is_security_admin(user) -> bool:
    return has_role(user, Role.SECURITY_ADMINISTRATOR)


def reads_statistics(user) -> bool:
    return has_role(user, Role.COMMERCE_REVIEWER, Role.FINANCE_REVIEWER, Role.AUDITOR)


def reads_reports(user) -> bool:
    return has_role(
        user, Role.DISBURSEMENT_OFFICER, Role.FINANCE_REVIEWER, Role.COMMERCE_REVIEWER, Role.AUDITOR
    )


def has_dossiers(user) -> bool:
    return has_role(user, Role.AUDITOR, Role.FINANCE_SUPERVISOR)


NAV_ITEMS: list[NavItem] = [
    NavItem(_("Measures"), "policies:measure_list", _everyone, "public"),
    NavItem(_("Public notices"), "reviews:public_notices", _everyone, "public"),
    NavItem(_("My enterprise"), "applications:dashboard", is_applicant, "applicant"),
    NavItem(_("My applications"), "applications:application_list", is_applicant, "applicant"),
    NavItem(_("Review workspace"), "reviews:workspace", is_reviewer, "staff"),
    NavItem(_("Proactive entitlements"), "reviews:entitlements", reads_statistics, "staff"),
    NavItem(_("Disbursements"), "reviews:finance_disbursements", is_disbursement_officer, "staff"),
    NavItem(_("Reports"), "reviews:finance_reports", reads_reports, "staff"),
    NavItem(_("Audit dossiers"), "reviews:dossiers", has_dossiers, "staff"),
    NavItem(_("Administration"), "admin:index", may_use_admin_site, "staff"),
    NavItem(_("Security administration"), "accounts:security", is_security_admin, "staff"),
]


def items_for(user) -> list[dict]:
    items = []
    for item in NAV_ITEMS:
        if not item.visible(user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "section": item.section})
    return items
