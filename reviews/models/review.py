"""The bureau's side of an application: who holds it, what was verified, what was decided.

Invariants live in the database as well as in the services: money never goes negative, an award
never exceeds its cap, a budget is never overspent, and the four people who act on one application
(submitter, commerce reviewer, finance reviewer, approval registrar) are four different accounts.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


def _distinct(a: str, b: str, name: str) -> models.CheckConstraint:
    """a and b are different users (or at least one of them is not known yet)."""
    return models.CheckConstraint(
        condition=Q(**{f"{a}__isnull": True}) | Q(**{f"{b}__isnull": True}) | ~Q(**{a: F(b)}),
        name=name,
        violation_error_message=_("One person may act only once on an application."),
    )


FOUR_EYES_PAIRS = (
    ("submitter", "commerce_reviewer"),
    ("submitter", "finance_reviewer"),
    ("submitter", "registrar"),
    ("commerce_reviewer", "finance_reviewer"),
    ("commerce_reviewer", "registrar"),
    ("finance_reviewer", "registrar"),
)


class Stage(models.TextChoices):
    COMMERCE = "commerce", _("Commerce review")
    FINANCE = "finance", _("Finance review")
    REGISTRAR = "registrar", _("Approval registration")


class ApplicationActors(models.Model):
    """The four accounts that acted on one application; the database refuses any repeat."""

    application = models.OneToOneField(
        "applications.Application", on_delete=models.CASCADE, related_name="actors"
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    commerce_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    finance_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    registrar = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("four-eyes record")
        verbose_name_plural = _("four-eyes records")
        constraints = [_distinct(a, b, f"actors_{a}_ne_{b}") for a, b in FOUR_EYES_PAIRS]

    def __str__(self) -> str:
        return f"actors of application {self.application_id}"


class Assignment(models.Model):
    """Who holds an application at a stage (one holder per stage)."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="assignments"
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="review_assignments",
        verbose_name=_("assignee"),
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "stage"], name="assignment_one_per_stage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.stage} → {self.assignee_id}"


class CoReviewRequest(models.Model):
    """An opinion asked of one of the measure's responsible units."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the opinion")
        ANSWERED = "answered", _("Answered")

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="coreview_requests"
    )
    unit = models.CharField(_("responsible unit"), max_length=40, db_index=True)
    message = models.TextField(_("question"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)

    class Meta:
        verbose_name = _("co-review request")
        verbose_name_plural = _("co-review requests")
        ordering = ["requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "unit"],
                condition=Q(status="open"),
                name="coreview_one_open_per_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} → {self.unit}"


class ReviewOpinion(models.Model):
    class Decision(models.TextChoices):
        AGREE = "agree", _("No objection")
        DISAGREE = "disagree", _("Objects")
        COMMENT = "comment", _("Comment only")

    request = models.OneToOneField(
        CoReviewRequest, on_delete=models.CASCADE, related_name="opinion"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(_("unit"), max_length=40)
    decision = models.CharField(_("opinion"), max_length=10, choices=Decision.choices)
    text = models.TextField(_("written opinion"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("co-review opinion")
        verbose_name_plural = _("co-review opinions")

    def __str__(self) -> str:
        return f"{self.unit}: {self.decision}"


class Assessment(models.Model):
    """The engine's result on verified facts, kept so an award can be re-derived years later."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="assessments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    on_date = models.DateField()
    verified_facts = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    prior_awards = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    result_zh = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    result_en = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    parameters_used = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    rules_version = models.CharField(_("rules version"), max_length=80)
    # The reviewer's reason for assessing on another date than the reference date, or for a
    # verified loan prime rate (M12); shown in the trace.
    reason = models.TextField(_("reason"), blank=True)
    eligible = models.BooleanField(_("eligible"))
    cap_cny = models.DecimalField(_("cap"), null=True, blank=True, **MONEY)
    amount_cny = models.DecimalField(_("computed amount"), null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.rules_version} cap {self.cap_cny}"

    @property
    def award_limit(self) -> Decimal | None:
        """The most that may be awarded: the computed amount, else the cap (discretionary)."""
        return self.amount_cny if self.amount_cny is not None else self.cap_cny


class ReviewDecision(models.Model):
    """One reviewer step: declared vs verified facts and the assessment the decision rested on."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="review_decisions"
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    action = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_facts = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    verified_facts = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount_cny = models.DecimalField(_("amount"), null=True, blank=True, **MONEY)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.stage} {self.action}"
