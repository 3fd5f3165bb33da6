"""Finance: disbursement batches (maker-checker), their lines and the export jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.fieldcrypto import EncryptedTextField, KeyedHashField, KeyedHashMixin

from .awards import Award
from .review import MONEY


class DisbursementBatch(models.Model):
    """Approved awards to pay, prepared by one officer and confirmed by another."""

    class State(models.TextChoices):
        OPEN = "open", _("Being prepared")
        CONFIRMED = "confirmed", _("Confirmed: to pay")
        PAID = "paid", _("Paid")

    number = models.CharField(_("batch number"), max_length=20, unique=True)
    state = models.CharField(
        _("status"), max_length=12, choices=State.choices, default=State.OPEN, db_index=True
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("prepared by"),
    )
    prepared_at = models.DateTimeField(_("prepared at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("disbursement batch")
        verbose_name_plural = _("disbursement batches")
        ordering = ["-prepared_at"]
        constraints = [
            # Maker-checker: the preparer never confirms their own batch.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("prepared_by")),
                name="disbursement_batch_maker_checker",
            ),
            models.CheckConstraint(
                condition=Q(state="open") | Q(confirmed_by__isnull=False),
                name="disbursement_batch_confirmed_has_checker",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class DisbursementLine(KeyedHashMixin, models.Model):
    """One award to pay, with the payee's details as they were when the batch was built."""

    class State(models.TextChoices):
        TO_PAY = "to_pay", _("To pay")
        PAID = "paid", _("Paid")

    batch = models.ForeignKey(DisbursementBatch, on_delete=models.CASCADE, related_name="lines")
    # One line per award ever: an award is in at most one batch and is never paid twice.
    award = models.OneToOneField(Award, on_delete=models.PROTECT, related_name="disbursement_line")
    sequence = models.PositiveIntegerField(_("sequence"))
    # Printed on the exported line and echoed by the bank's result file: reconciliation matches on
    # it (with the batch, the account and the amount). Unique across all batches.
    line_reference = models.CharField(_("line reference"), max_length=30, unique=True)
    payee_name = models.CharField(_("payee"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18)
    bank_name = models.CharField(_("bank name"), max_length=200)
    bank_account = EncryptedTextField(_("bank account"), max_length=40, purpose="bank_account")
    bank_account_hash = KeyedHashField(source="bank_account", purpose="bank_account")
    amount_cny = models.DecimalField(_("amount"), **MONEY)
    measure_code = models.CharField(_("measure"), max_length=10)
    measure_title = models.CharField(max_length=200)
    fund_source = models.CharField(_("fund source"), max_length=200, blank=True)
    approval_document = models.CharField(_("approval document"), max_length=80, blank=True)
    application_reference = models.CharField(_("application"), max_length=30, blank=True)
    state = models.CharField(
        _("status"), max_length=10, choices=State.choices, default=State.TO_PAY, db_index=True
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=80, blank=True)
    failure_reason = models.CharField(_("reason of the failed payment"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("disbursement line")
        verbose_name_plural = _("disbursement lines")
        ordering = ["batch", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "sequence"], name="disbursement_line_seq"),
            models.CheckConstraint(
                condition=Q(amount_cny__gt=0), name="disbursement_line_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(state="to_pay") | (Q(paid_on__isnull=False) & ~Q(bank_reference="")),
                name="disbursement_line_paid_has_date_and_reference",
            ),
        ]

    def __str__(self) -> str:
        return self.line_reference or f"{self.batch.number}#{self.sequence}"

    @staticmethod
    def reference_for(batch_number: str, sequence: int) -> str:
        """`PB-2026-0001-00001`: the batch's number and the line's sequence."""
        return f"{batch_number}-{sequence:05d}"

    @property
    def masked_account(self) -> str:
        return f"•••• {self.bank_account[-4:]}"


class ExportJob(models.Model):
    """A large export written in the background (Celery), with its progress and result."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Writing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        # The file is deleted EXPORT_FILE_HOURS after it was written (it holds full accounts).
        EXPIRED = "expired", _("Deleted")

    batch = models.ForeignKey(DisbursementBatch, on_delete=models.CASCADE, related_name="exports")
    file_format = models.CharField(max_length=10)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.batch.number}.{self.file_format} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.rows_total else min(100, self.rows_done * 100 // self.rows_total)
