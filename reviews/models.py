"""The bureau's side of an application: who holds it, what was verified, what was awarded.

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


# --- Approval notices (issue 6) -------------------------------------------------------------------


class NoticeCounter(models.Model):
    """The last notice number of one issuer in one year.

    Incremented under a row lock in the transaction that issues the notice, so numbers are
    consecutive (a rolled-back approval rolls its number back too) and never reused.
    """

    issuer = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("notice counter")
        verbose_name_plural = _("notice counters")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year"], name="notice_counter_issuer_year")
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.year}: {self.last}"


class NoticeQuerySet(models.QuerySet):
    def shown(self) -> Notice | None:
        """What the applicant sees: the valid notice, else the newest one (being prepared)."""
        valid = (
            self.filter(status=Notice.Status.READY, superseded_at__isnull=True)
            .order_by("-version")
            .first()
        )
        return valid or self.order_by("-created_at", "-id").first()


class Notice(models.Model):
    """One version of the approval notice of a fixed award, in Chinese and in English.

    What it says is frozen when it is issued; the PDFs are rendered once by a Celery task
    (NoticeOutbox) and identified by their SHA-256, which the public verification page checks.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Rendering failed")

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="notices")
    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="approval_notices"
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    issuer = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    serial = models.PositiveIntegerField()
    number = models.CharField(_("notice number"), max_length=60, unique=True)
    issued_on = models.DateField(_("issue date"))
    # The applicant's language when issued: that version is rendered first.
    language = models.CharField(max_length=10, default="zh-hans")
    enterprise_name = models.CharField(_("enterprise"), max_length=200)
    enterprise_uscc = models.CharField(_("unified social credit code"), max_length=18)
    measure_code = models.CharField(_("measure"), max_length=10)
    measure_title_zh = models.CharField(max_length=200)
    measure_title_en = models.CharField(max_length=300)
    amount_cny = models.DecimalField(_("approved amount"), **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    file_zh = models.FileField(max_length=200, blank=True)
    sha256_zh = models.CharField(max_length=64, blank=True, db_index=True)
    size_zh = models.PositiveIntegerField(null=True, blank=True)
    file_en = models.FileField(max_length=200, blank=True)
    sha256_en = models.CharField(max_length=64, blank=True, db_index=True)
    size_en = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval notice")
        verbose_name_plural = _("approval notices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["award", "version"], name="notice_one_per_award_version"
            ),
            models.UniqueConstraint(
                fields=["issuer", "year", "serial"], name="notice_serial_unique_per_issuer_year"
            ),
            models.UniqueConstraint(
                fields=["award"],
                condition=~Q(status="ready"),
                name="notice_one_unfinished_per_award",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready")
                | (~Q(file_zh="") & ~Q(sha256_zh="") & ~Q(file_en="") & ~Q(sha256_en="")),
                name="notice_ready_has_files",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def code(self) -> str:
        """The number in URL form: HSKB-2026-0001."""
        return f"{self.issuer}-{self.year}-{self.serial:04d}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_superseded(self) -> bool:
        return self.superseded_at is not None


class NoticeOutbox(models.Model):
    """The render job of a notice, written in the transaction that issues the notice.

    A job the broker never took (enqueued_at empty) or that did not finish in time is sent
    again by the periodic sweep; the task is idempotent, so a job sent twice renders once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    notice = models.OneToOneField(Notice, on_delete=models.CASCADE, related_name="outbox")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("notice render job")
        verbose_name_plural = _("notice render jobs")
        indexes = [models.Index(fields=["status", "enqueued_at"], name="notice_outbox_due")]

    def __str__(self) -> str:
        return f"{self.notice_id}: {self.status} ({self.attempts})"


# --- Finance: disbursement batches (maker-checker) -----------------------------------------------


class DisbursementCounter(models.Model):
    """Gap-free batch numbers per year (PB-2026-0001), assigned under a row lock."""

    year = models.PositiveIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


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


class DisbursementLine(models.Model):
    """One award to pay, with the payee's details as they were when the batch was built."""

    class State(models.TextChoices):
        TO_PAY = "to_pay", _("To pay")
        PAID = "paid", _("Paid")

    batch = models.ForeignKey(DisbursementBatch, on_delete=models.CASCADE, related_name="lines")
    # One line per award ever: an award is in at most one batch and is never paid twice.
    award = models.OneToOneField(Award, on_delete=models.PROTECT, related_name="disbursement_line")
    sequence = models.PositiveIntegerField(_("sequence"))
    payee_name = models.CharField(_("payee"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18)
    bank_name = models.CharField(_("bank name"), max_length=200)
    bank_account = models.CharField(_("bank account"), max_length=40)
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
        return f"{self.batch.number}#{self.sequence}"

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
