"""The entitlement list (可享清单): what the rules engine finds each enterprise entitled to from
the imported statistics, before anyone applies (免申即享)."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class Entitlement(models.Model):
    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")

    # The enterprise is known by its credit code; `enterprise` is set once it is registered.
    uscc = models.CharField(_("unified social credit code"), max_length=18, db_index=True)
    name = models.CharField(_("enterprise name"), max_length=200, blank=True)
    enterprise = models.ForeignKey(
        "applications.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entitlements",
    )
    measure = models.ForeignKey(
        "policies.Measure", on_delete=models.PROTECT, related_name="+", verbose_name=_("measure")
    )
    year = models.PositiveIntegerField(_("performance year"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OFFERED, db_index=True
    )
    amount_cny = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    # {fact: {"value": ..., "record": id, "import": id, "line": n, "source": ...}}
    sourced_facts = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # Facts the source does not hold, which the enterprise answers when it applies.
    open_facts = models.JSONField(default=list, blank=True)
    result_zh = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    result_en = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    rules_version = models.CharField(max_length=100, blank=True)
    # Hash of everything the assessment read: the same inputs never assess twice.
    fingerprint = models.CharField(max_length=64)
    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entitlement",
    )
    decline_reason = models.CharField(_("reason"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A reviewer who doubts the source record flags it (the bureau checks with the source).
    disputed_at = models.DateTimeField(null=True, blank=True)
    disputed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispute_reason = models.CharField(_("reason for the dispute"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    assessed_at = models.DateTimeField()
    # How many times a changed source re-assessed it (0: as first found).
    reassessed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        ordering = ["year", "measure__code", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc", "measure", "year"], name="entitlement_one_per_measure_year"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_cny__gte=0), name="entitlement_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.uscc} {self.measure_id} {self.year} {self.amount_cny}"
