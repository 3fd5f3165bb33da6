"""The retention rule for personal data (SECURITY.md 36, PIPL art. 19 and 47; README "Retention").

Purged after a configurable period:
- closed applications (rejected, withdrawn, lapsed) untouched for RETENTION_CLOSED_APPLICATION_DAYS:
  their evidence files (and rows), the signer's name and the unsubmitted draft are removed; the
  reference, state, declared figures and amounts stay for the statistics and the audit trail;
- dormant applicant accounts (no login, or never logged in since registering, for
  RETENTION_DORMANT_ACCOUNT_DAYS): name, e-mail, phone and username are replaced, the password is
  made unusable and the account deactivated. The row stays, because applications and the audit log
  point to it. Staff accounts are never purged here.

Never purged here: the audit log (kept at least 6 months by MLPS, append-only: the portal deletes
no audit row), and applications that were approved or paid, with their evidence and notices (kept
under the bureau's archives rule). Each run that purges anything leaves one audit event with the
counts; `manage.py purge_personal_data --dry-run` shows what a run would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from hengyang_cbec.accounts.roles import STAFF_ROLES
from hengyang_cbec.audit.services import record

from .models import Application, Evidence, Membership
from .workflow import State

CLOSED_STATES = (State.REJECTED, State.WITHDRAWN, State.LAPSED)
PURGED_USERNAME = "~purged~{pk}"  # "~" is not allowed in a registered username: never collides


@dataclass
class PurgeReport:
    dry_run: bool
    applications: list[int] = field(default_factory=list)
    evidence_files: int = 0
    accounts: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "applications": len(self.applications),
            "evidence_files": self.evidence_files,
            "accounts": len(self.accounts),
        }


def closed_applications_due(now: datetime):
    cutoff = now - timedelta(days=settings.RETENTION_CLOSED_APPLICATION_DAYS)
    return Application.objects.filter(
        state__in=CLOSED_STATES, updated_at__lt=cutoff, personal_data_purged_at__isnull=True
    )


def dormant_accounts_due(now: datetime):
    cutoff = now - timedelta(days=settings.RETENTION_DORMANT_ACCOUNT_DAYS)
    user_model = get_user_model()
    finished = [*CLOSED_STATES, State.APPROVED, State.DISBURSED]
    busy = (
        Application.objects.exclude(state__in=finished)
        .exclude(state=State.DRAFT, updated_at__lt=cutoff)  # a draft abandoned as long
        .values("enterprise_id")
    )
    return (
        user_model.objects.annotate(last_seen=Coalesce("last_login", "date_joined"))
        .filter(last_seen__lt=cutoff, is_staff=False, is_superuser=False)
        .exclude(groups__name__in=[role.value for role in STAFF_ROLES])
        .exclude(username__startswith="~purged~")
        # A member of an enterprise with an application under way is not dormant.
        .exclude(pk__in=Membership.objects.filter(enterprise__in=busy).values("user_id"))
        .distinct()
    )


def purge_personal_data(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Apply the retention rule once; with dry_run, only report what it would remove."""
    now = now or timezone.now()
    report = PurgeReport(dry_run=dry_run)
    for application_id in closed_applications_due(now).values_list("pk", flat=True):
        report.evidence_files += _purge_application(application_id, now=now, dry_run=dry_run)
        report.applications.append(application_id)
    for user_id in dormant_accounts_due(now).values_list("pk", flat=True):
        if dry_run or _purge_account(user_id, now=now):
            report.accounts.append(user_id)
    if not dry_run and (report.applications or report.accounts):
        record(
            action="retention.purge",
            actor_role="system",
            data={
                **report.counts(),
                "closed_application_days": settings.RETENTION_CLOSED_APPLICATION_DAYS,
                "dormant_account_days": settings.RETENTION_DORMANT_ACCOUNT_DAYS,
            },
        )
    return report


def _purge_application(application_id: int, *, now: datetime, dry_run: bool) -> int:
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application_id)
        evidence = list(Evidence.objects.filter(application=application))
        if dry_run:
            return len(evidence)
        if application.state not in CLOSED_STATES or application.personal_data_purged_at:
            return 0  # re-opened or purged meanwhile
        names = [item.file.name for item in evidence if item.file.name]
        Evidence.objects.filter(pk__in=[item.pk for item in evidence]).delete()
        Application.objects.filter(pk=application.pk).update(
            signer_name="", draft_facts={}, personal_data_purged_at=now
        )
        record(
            action="retention.purge_application",
            actor_role="system",
            obj=application,
            application_id=application.pk,
            data={"evidence_files": len(names)},
        )
        transaction.on_commit(lambda: [default_storage.delete(name) for name in names])
        return len(names)


def _purge_account(user_id: int, *, now: datetime) -> bool:
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.select_for_update().get(pk=user_id)
        if user.username.startswith("~purged~"):
            return False
        user.username = PURGED_USERNAME.format(pk=user.pk)
        user.email = ""
        user.first_name = user.last_name = ""
        user.full_name = ""
        user.phone = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        record(action="retention.purge_account", actor_role="system", obj=user)
    return True
