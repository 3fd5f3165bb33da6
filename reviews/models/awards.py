"""What is awarded: budget allocations, the government's approval batches and the awards."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .review import FOUR_EYES_PAIRS, MONEY, ZERO, Assessment, _distinct


class BudgetAllocation(models.Model):
    """Money set aside for one fiscal year and fund source (optionally one measure)."""

    fiscal_year = models.PositiveIntegerField(_("fiscal year"))
    fund_source = models.ForeignKey(
        "policies.FundSource",
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("fund source"),
    )
    measure = models.ForeignKey(
        "policies.Measure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("measure"),
    )
    amount_cny = models.DecimalField(_("allocated"), **MONEY)
    # Kept equal to the sum of the awards committed to it (changed only under a row lock).
    committed_cny = models.DecimalField(_("committed"), default=ZERO, **MONEY)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("budget allocation")
        verbose_name_plural = _("budget allocations")
        ordering = ["-fiscal_year", "fund_source__code", "measure__code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(committed_cny__gte=0), name="allocation_committed_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(committed_cny__lte=F("amount_cny")),
                name="allocation_not_overspent",
                violation_error_message=_(
                    "An allocation cannot be lower than what is already committed to it."
                ),
            ),
            models.UniqueConstraint(
                fields=["fiscal_year", "fund_source"],
                condition=Q(measure__isnull=True),
                name="allocation_unique_year_source",
            ),
            models.UniqueConstraint(
                fields=["fiscal_year", "fund_source", "measure"],
                condition=Q(measure__isnull=False),
                name="allocation_unique_year_source_measure",
            ),
        ]

    def __str__(self) -> str:
        measure = f" {self.measure.code}" if self.measure_id else ""
        return f"{self.fiscal_year} {self.fund_source}{measure}"

    @property
    def remaining_cny(self) -> Decimal:
        return self.amount_cny - self.committed_cny


class ApprovalBatch(models.Model):
    """The Municipal People's Government's approval of a batch of awards."""

    document_number = models.CharField(_("document number"), max_length=80, unique=True)
    document_date = models.DateField(_("document date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("government approval")
        verbose_name_plural = _("government approvals")
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return self.document_number


class Award(models.Model):
    """The amount recommended, committed to a budget and finally fixed for one application."""

    class Status(models.TextChoices):
        RECOMMENDED = "recommended", _("Recommended by commerce")
        COMMITTED = "committed", _("Committed to a budget")
        FIXED = "fixed", _("Fixed by government approval")
        CANCELLED = "cancelled", _("Cancelled")

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="awards"
    )
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECOMMENDED
    )
    amount_cny = models.DecimalField(_("amount"), **MONEY)
    cap_cny = models.DecimalField(_("cap"), **MONEY)
    reason = models.TextField(_("reason"), blank=True)
    fund_source = models.ForeignKey(
        "policies.FundSource",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fund source"),
    )
    allocation = models.ForeignKey(
        BudgetAllocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="awards",
        verbose_name=_("budget allocation"),
    )
    approval_batch = models.ForeignKey(
        ApprovalBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="awards"
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    commerce_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    finance_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    registrar = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    committed_at = models.DateTimeField(null=True, blank=True)
    fixed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cny__gt=0), name="award_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_cny__lte=F("cap_cny")), name="award_amount_within_cap"
            ),
            models.CheckConstraint(
                condition=Q(amount_cny=F("cap_cny")) | ~Q(reason=""),
                name="award_lower_amount_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["recommended", "cancelled"])
                | (Q(fund_source__isnull=False) & Q(allocation__isnull=False)),
                name="award_committed_has_budget",
            ),
            models.CheckConstraint(
                condition=~Q(status="fixed") | Q(approval_batch__isnull=False),
                name="award_fixed_has_approval",
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=~Q(status="cancelled"),
                name="award_one_live_per_application",
            ),
            *[_distinct(a, b, f"award_{a}_ne_{b}") for a, b in FOUR_EYES_PAIRS],
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.amount_cny} ({self.status})"
