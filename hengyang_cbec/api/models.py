"""API keys of other systems, and what those systems submit for a person to confirm."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a key may do. A key holds one or more scopes; an endpoint needs exactly one."""

    READ_STATUSES = "read_statuses", _("Read application statuses")
    IMPORT_STATISTICS = "import_statistics", _("Import statistics (proposals a person approves)")
    EXCHANGE_PAYMENTS = (
        "exchange_payments",
        _("Exchange payment files (read confirmed batches, propose the bank's results)"),
    )
    # An applicant's own token (created by the applicant, never by the security administrator).
    READ_OWN_APPLICATIONS = "read_own_applications", _("Read my enterprise's applications")


# The scopes of other systems' keys, which the security administrator grants.
SYSTEM_SCOPES = (Scope.READ_STATUSES, Scope.IMPORT_STATISTICS, Scope.EXCHANGE_PAYMENTS)


class ApiKey(models.Model):
    """A system's key: shown once when created, stored as its SHA-256, expiring and revocable.

    The secret is `hyk_<prefix>_<secret>`; `prefix` finds the row, the hash of the whole key
    proves it. Keys are created and revoked by a security administrator.
    """

    name = models.CharField(_("system"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Set for an applicant's own read-only token: it reads what this person may read, while they
    # remain an active member of their enterprise.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_tokens",
        verbose_name=_("holder"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def scope_labels(self) -> list[str]:
        return [str(Scope(s).label) for s in self.scopes if s in Scope.values]


class BankResultProposal(models.Model):
    """The bank's result for a confirmed batch, sent by a system through the API.

    Nothing is paid when it arrives: a disbursement officer reads it and confirms it, and the
    rows then go through the same reconciliation as an uploaded result file.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        APPLIED = "applied", _("Confirmed and reconciled")
        REFUSED = "refused", _("Refused by the reconciliation")
        REJECTED = "rejected", _("Rejected by an officer")

    batch = models.ForeignKey(
        "reviews.DisbursementBatch", on_delete=models.PROTECT, related_name="api_results"
    )
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="+")
    rows = models.JSONField(default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    paid = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("bank result sent through the API")
        verbose_name_plural = _("bank results sent through the API")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.batch} {self.submitted_at:%Y-%m-%d %H:%M}"
