"""Official statistics imported by the bureau (免申即享): customs CBEC statistics and
social-security contributions, one record per (credit code, year, source).

An import is stored whole after validation and waits for a second person's approval (four eyes).
An import is made by a commerce reviewer (a file, `imported_by`) or sent by another system through
the API (rows, `api_key`): exactly one of the two. An API import is a proposal like any other:
a commerce reviewer approves it, never the system that sent it; the constraint below keeps the
importer out of the approval, and the person who issued the key is kept out by the service.
Approval makes its new and changed records current; the records they replace stay, marked as
superseded, so that every fact keeps the record it came from and history is never overwritten.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class StatisticsSource(models.TextChoices):
    CUSTOMS = "customs", _("Customs CBEC statistics")
    SOCIAL_SECURITY = "social_security", _("Social-security contributions")


class StatisticsImport(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    source = models.CharField(_("source"), max_length=20, choices=StatisticsSource.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    # The file as uploaded; an import through the API has rows but no file.
    file = models.FileField(_("file"), max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    row_count = models.PositiveIntegerField(_("lines"), default=0)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("correction of"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The key of the system that sent the rows through the API (then imported_by is empty).
    api_key = models.ForeignKey(
        "api.ApiKey",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejected_reason = models.CharField(_("reason"), max_length=300, blank=True)
    # {"new": n, "changed": n, "unchanged": n}, fixed when the import is applied.
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("statistics import")
        verbose_name_plural = _("statistics imports")
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(imported_by__isnull=False, api_key__isnull=True)
                | Q(imported_by__isnull=True, api_key__isnull=False),
                name="statistics_import_one_importer",
                violation_error_message=_("An import has one importer: a person or a system."),
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("imported_by")),
                name="statistics_import_four_eyes",
                violation_error_message=_("The importer may not approve their own import."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} #{self.pk}"


class StatisticsRecord(models.Model):
    """One line of an import. `current` marks the record the portal uses now for its
    (credit code, year, source); the one it replaced points to it through `superseded_by`."""

    class Change(models.TextChoices):
        NEW = "new", _("New")
        CHANGED = "changed", _("Changed")
        UNCHANGED = "unchanged", _("Unchanged")

    statistics_import = models.ForeignKey(
        StatisticsImport, on_delete=models.PROTECT, related_name="records"
    )
    line = models.PositiveIntegerField(_("line"))
    source = models.CharField(_("source"), max_length=20, choices=StatisticsSource.choices)
    uscc = models.CharField(_("unified social credit code"), max_length=18, db_index=True)
    name = models.CharField(_("enterprise name"), max_length=200, blank=True)
    year = models.PositiveIntegerField(_("year"))
    export_usd = models.DecimalField(
        _("CBEC exports (USD)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    import_usd = models.DecimalField(
        _("CBEC imports (USD)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    customs_office = models.CharField(_("customs office"), max_length=100, blank=True)
    contributions_cny = models.DecimalField(
        _("social-security contributions (CNY)"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
    )
    change = models.CharField(max_length=10, choices=Change.choices, blank=True)
    current = models.BooleanField(default=False)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("statistics record")
        verbose_name_plural = _("statistics records")
        ordering = ["statistics_import_id", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc", "year", "source"],
                condition=Q(current=True),
                name="statistics_record_one_current",
            ),
            models.UniqueConstraint(
                fields=["statistics_import", "line"], name="statistics_record_line_unique"
            ),
            models.CheckConstraint(
                condition=(Q(export_usd__isnull=True) | Q(export_usd__gte=0))
                & (Q(import_usd__isnull=True) | Q(import_usd__gte=0))
                & (Q(contributions_cny__isnull=True) | Q(contributions_cny__gte=0)),
                name="statistics_record_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uscc} {self.year} {self.source} (#{self.statistics_import_id}:{self.line})"
