"""The auditor's dossier: one ZIP with the whole record of an application, of a measure and year,
or of a disbursement batch, built in the background and downloadable for a limited time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .finance import DisbursementBatch


class DossierJob(models.Model):
    class Scope(models.TextChoices):
        APPLICATION = "application", _("One application")
        MEASURE_YEAR = "measure_year", _("A measure and year")
        BATCH = "batch", _("A disbursement batch")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices)
    application = models.ForeignKey(
        "applications.Application",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("application"),
    )
    measure_code = models.CharField(_("measure"), max_length=10, blank=True)
    year = models.PositiveIntegerField(_("performance year"), null=True, blank=True)
    batch = models.ForeignKey(
        DisbursementBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("disbursement batch"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    file = models.FileField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("available until"), null=True, blank=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="application") & Q(application__isnull=False))
                | (Q(scope="measure_year") & ~Q(measure_code="") & Q(year__isnull=False))
                | (Q(scope="batch") & Q(batch__isnull=False)),
                name="dossier_scope_has_its_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.status})"

    @property
    def label(self) -> str:
        """What the dossier covers: HY-CBEC-2026-00001, M05·2026, PB-2026-0001."""
        if self.scope == self.Scope.APPLICATION and self.application_id:
            return self.application.reference or str(self.application_id)
        if self.scope == self.Scope.BATCH and self.batch_id:
            return self.batch.number
        return f"{self.measure_code}-{self.year}"

    @property
    def percent(self) -> int:
        return 100 if not self.rows_total else min(100, self.rows_done * 100 // self.rows_total)

    @property
    def expired(self) -> bool:
        return self.status == self.Status.EXPIRED or (
            self.expires_at is not None and self.expires_at <= timezone.now()
        )
