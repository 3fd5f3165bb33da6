"""Approval notices (批复通知书): their numbers, the frozen notices and their render jobs."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .awards import Award
from .review import MONEY


class NoticeQuerySet(models.QuerySet):
    def shown(self) -> Notice | None:
        """What the applicant sees: the valid notice, else the newest one (being prepared)."""
        valid = (
            self.filter(status=Notice.Status.READY, superseded_at__isnull=True)
            .order_by("-version")
            .first()
        )
        return valid or self.order_by("-created_at", "-id").first()


# Crockford's base32 without I, L, O, U: easy to read aloud and type from paper.
VERIFICATION_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VERIFICATION_GROUPS = 5  # 5 × 4 characters = 100 random bits


def new_verification_code() -> str:
    """`HSKB-` and five groups of four random characters (100 bits from `secrets`)."""
    groups = (
        "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(4))
        for _ in range(VERIFICATION_GROUPS)
    )
    return "-".join([settings.NOTICE_ISSUER, *groups])


class Notice(models.Model):
    """One version of the approval notice of a fixed award, in Chinese and in English.

    Everything it prints about the award is copied when it is issued (amount, cap, reason, fund
    source, approval document, the reasoning and the policy version that assessed), so a later
    change to the award, its budget or its approval batch never changes a notice; the PDFs are
    rendered once by a Celery task (NoticeOutbox) and identified by their SHA-256, which the
    public verification page checks.
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
    # The code of the public verification page (QR code): random, so notices cannot be found by
    # counting; the number printed on the notice stays sequential.
    verification_code = models.CharField(max_length=40, unique=True, default=new_verification_code)
    issued_on = models.DateField(_("issue date"))
    # The applicant's language when issued: that version is rendered first.
    language = models.CharField(max_length=10, default="zh-hans")
    enterprise_name = models.CharField(_("enterprise"), max_length=200)
    enterprise_uscc = models.CharField(_("unified social credit code"), max_length=18)
    measure_code = models.CharField(_("measure"), max_length=10)
    measure_title_zh = models.CharField(max_length=200)
    measure_title_en = models.CharField(max_length=300)
    amount_cny = models.DecimalField(_("approved amount"), **MONEY)
    cap_cny = models.DecimalField(_("cap"), **MONEY, null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    fund_source_zh = models.CharField(max_length=200, blank=True)
    fund_source_en = models.CharField(max_length=300, blank=True)
    approval_number = models.CharField(_("document number"), max_length=80, blank=True)
    approval_date = models.DateField(_("document date"), null=True, blank=True)
    # The engine's reasoning steps (核定依据) in each language, as the assessment stated them.
    trace_zh = models.JSONField(default=list, blank=True)
    trace_en = models.JSONField(default=list, blank=True)
    # The policy version that assessed: the printed link to its interpretations names it.
    policy_code = models.CharField(max_length=40, blank=True)
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
        """The verification code in URLs and on the PDF: HSKB-7K3Q-9XMD-2PWA-H6TR-5CNE."""
        return self.verification_code

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
