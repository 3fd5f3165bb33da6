"""Public notice (公示): the published batches, their items and the objections lodged."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .awards import Award
from .review import MONEY


class PublicNoticeBatch(models.Model):
    """A list published for public notice (公示) for a period, then closed."""

    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    period_days = models.PositiveSmallIntegerField(_("notice period (days)"))
    ends_at = models.DateTimeField(_("notice period ends"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("public notice batch")
        verbose_name_plural = _("public notice batches")
        ordering = ["-published_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("published_at")), name="notice_ends_after_publication"
            )
        ]

    def __str__(self) -> str:
        return f"{self.published_at:%Y-%m-%d} ({self.period_days})"


class PublicNoticeItem(models.Model):
    """One award on a public notice: enterprise name, measure and amount, nothing else."""

    class Status(models.TextChoices):
        LISTED = "listed", _("On notice")
        CLOSED = "closed", _("Notice period over")
        WITHDRAWN = "withdrawn", _("Withdrawn after an objection")

    batch = models.ForeignKey(PublicNoticeBatch, on_delete=models.PROTECT, related_name="items")
    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="notice_items"
    )
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="+")
    enterprise_name = models.CharField(_("enterprise"), max_length=200)
    measure_code = models.CharField(_("measure"), max_length=10)
    measure_title_zh = models.CharField(max_length=200)
    measure_title_en = models.CharField(max_length=300)
    amount_cny = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.LISTED
    )

    class Meta:
        verbose_name = _("public notice item")
        verbose_name_plural = _("public notice items")
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="listed"),
                name="notice_item_one_listed_per_application",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_name} {self.measure_code} {self.amount_cny}"


class ScanState(models.TextChoices):
    PENDING = "pending", _("Not scanned yet")
    CLEAN = "clean", _("Clean")
    INFECTED = "infected", _("Infected (quarantined)")


class Objection(models.Model):
    """A real-name objection to an award on public notice; an open one holds the application."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    item = models.ForeignKey(PublicNoticeItem, on_delete=models.PROTECT, related_name="objections")
    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="objections"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    real_name = models.CharField(_("your real name"), max_length=100)
    contact = models.CharField(_("phone or e-mail"), max_length=100)
    text = models.TextField(_("objection"))
    file = models.FileField(_("supporting file"), max_length=200, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_type = models.CharField(max_length=100, blank=True)
    # Held like evidence: downloadable only once the virus scan found it clean (SECURITY.md 16, 22).
    scan_state = models.CharField(
        _("virus scan"), max_length=10, choices=ScanState.choices, default=ScanState.PENDING
    )
    scan_detail = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(resolution=""),
                name="objection_resolution_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.status}"
