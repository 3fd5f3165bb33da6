"""Approval notices (批复通知书): numbering, issuing, the render job and its sweep, staff actions,
who may download and the public verification.

DESIGN.md §4. When an award is fixed, `notice_request` (called from `services.approval.award_fixed`,
in the approving transaction) takes the next number of the issuer's year under a row lock, freezes
what the notice says and writes a NoticeOutbox row; after commit the job goes to Celery. The task
(`tasks.render_notice`) calls `notice_render`, which renders the Chinese and the English PDF
(`reviews.pdf`), stores them under generated names and marks the notice ready in one short
transaction: running it twice, or after a worker died, still leaves one notice. The beat task
`sweep_notice_outbox` sends again what the broker never took (Redis down) or what went stale.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Membership
from applications.services import notify
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import record
from hengyang_cbec.errors import PortalError
from hengyang_cbec.numbering.services import next_number, notice_series
from hengyang_cbec.statetables import move

from ..models import Award, Notice, NoticeOutbox
from ..permissions import READERS
from ..transitions import NOTICE

logger = logging.getLogger(__name__)


LANGUAGES = ("zh", "en")
# Staff who may download any notice: the readers of applications and the disbursement officers.
NOTICE_READERS = (*READERS, Role.DISBURSEMENT_OFFICER)
# Staff who may retry a failed render or issue a new version.
NOTICE_MANAGERS = (Role.APPROVAL_REGISTRAR, Role.COMMERCE_REVIEWER)


class NoticeError(PortalError):
    """A refused notice operation; the message is for the user."""


# --- Numbering and issuing ------------------------------------------------------------------------


def format_number(year: int, serial: int, prefix: str | None = None) -> str:
    """衡商跨补〔2026〕0001号."""
    prefix = settings.NOTICE_NUMBER_PREFIX if prefix is None else prefix
    return f"{prefix}〔{year}〕{serial:04d}号"


def next_serial(issuer: str, year: int) -> int:
    """The next number of the issuer's year, under a row lock held until the caller commits."""
    return next_number(notice_series(issuer), year)


def _applicant_language(award: Award) -> str:
    submitter = award.application.submitted_by
    language = getattr(submitter, "preferred_language", "") or "zh-hans"
    return "en" if language.startswith("en") else "zh-hans"


def notice_issue(*, award: Award, created_by=None) -> Notice:
    """Issue the next version of the award's notice and its render job (caller's transaction).

    The number and the content are fixed here; the PDFs follow after commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notice_issue must run inside the transaction that asks for it")
    application = award.application
    enterprise = application.enterprise
    measure = application.measure
    version = (award.notices.aggregate(v=Max("version"))["v"] or 0) + 1
    issued_on = timezone.localdate()
    issuer = settings.NOTICE_ISSUER
    serial = next_serial(issuer, issued_on.year)
    notice = Notice.objects.create(
        award=award,
        application=application,
        version=version,
        issuer=issuer,
        year=issued_on.year,
        serial=serial,
        number=format_number(issued_on.year, serial),
        issued_on=issued_on,
        language=_applicant_language(award),
        enterprise_name=enterprise.name,
        enterprise_uscc=enterprise.uscc,
        measure_code=measure.code,
        measure_title_zh=measure.title_zh,
        measure_title_en=measure.title_en,
        amount_cny=award.amount_cny,
        **frozen_award(award),
        created_by=created_by,
    )
    outbox = NoticeOutbox.objects.create(notice=notice)
    transaction.on_commit(lambda: enqueue(outbox.pk))
    return notice


def frozen_award(award: Award) -> dict:
    """What a notice prints about its award, copied at issue (Notice's fields of the same name)."""
    assessment = award.assessment
    result_zh, result_en = assessment.result_zh or {}, assessment.result_en or {}
    fund, batch = award.fund_source, award.approval_batch
    return {
        "cap_cny": award.cap_cny,
        "reason": award.reason,
        "fund_source_zh": fund.name_zh if fund else "",
        "fund_source_en": fund.name_en if fund else "",
        "approval_number": batch.document_number if batch else "",
        "approval_date": batch.document_date if batch else None,
        "trace_zh": result_zh.get("trace", []),
        "trace_en": result_en.get("trace", []),
        "policy_code": result_zh.get("policy") or award.application.measure.policy.code,
    }


def notice_request(award: Award) -> Notice:
    """Called by `services.approval.award_fixed` inside the government-approval transaction."""
    return notice_issue(award=award)


# --- The render job -------------------------------------------------------------------------------


def enqueue(outbox_id: int) -> bool:
    """Hand the job to Celery; if the broker is down, leave it to the sweep (never raise)."""
    from ..tasks import render_notice

    try:
        # No publish retries: a request must not hang on a dead broker; the sweep sends it again.
        render_notice.apply_async(
            args=[outbox_id],
            queue=settings.NOTICE_QUEUE,
            retry=True,
            retry_policy={"max_retries": 0},
        )
    except Exception:
        logger.warning("notice job %s not enqueued; the sweep will send it again", outbox_id)
        return False
    NoticeOutbox.objects.filter(pk=outbox_id, status=NoticeOutbox.Status.PENDING).update(
        enqueued_at=timezone.now()
    )
    return True


def backoff_seconds(attempts: int) -> int:
    """10 s, 20 s, 40 s … at most 10 minutes between attempts."""
    return min(10 * 2 ** max(attempts - 1, 0), 600)


def _claim(outbox_id: int) -> NoticeOutbox | None:
    """Count an attempt (committed before rendering, so a killed worker's attempts count too)."""
    with transaction.atomic():
        outbox = (
            NoticeOutbox.objects.select_for_update().select_related("notice").filter(pk=outbox_id)
        ).first()
        if outbox is None or outbox.status != NoticeOutbox.Status.PENDING:
            return None
        if outbox.notice.status == Notice.Status.READY:
            outbox.status = NoticeOutbox.Status.DONE
            outbox.finished_at = timezone.now()
            outbox.save(update_fields=["status", "finished_at"])
            return None
        if outbox.attempts >= settings.NOTICE_MAX_ATTEMPTS:
            _fail(outbox, _("Gave up after %(n)d attempts.") % {"n": outbox.attempts})
            return None
        outbox.attempts += 1
        outbox.started_at = timezone.now()
        outbox.save(update_fields=["attempts", "started_at"])
    return outbox


def _fail(outbox: NoticeOutbox, error: str) -> None:
    """Mark job and notice failed (caller holds the row lock); staff see it and may retry."""
    now = timezone.now()
    outbox.status = NoticeOutbox.Status.FAILED
    outbox.last_error = error[:2000]
    outbox.finished_at = now
    outbox.save(update_fields=["status", "last_error", "finished_at"])
    notice = Notice.objects.select_for_update().get(pk=outbox.notice_id)
    if notice.status == Notice.Status.READY:
        return
    notice.error = error[:2000]
    if notice.status == Notice.Status.FAILED:  # failed already: keep the newest error
        notice.save(update_fields=["error"])
        return
    move(
        notice,
        NOTICE,
        "failed",
        fields=("error",),
        result=AuditEvent.Result.FAILED,
        data={"number": notice.number, "attempts": outbox.attempts, "error": error[:500]},
    )


def notice_render(outbox_id: int) -> str:
    """Render and store the notice of a job; 'done' if it is (or already was) ready.

    Idempotent: a job that is done, failed or unknown is left alone; two runs racing each other
    both render, and the second to finish throws its files away.
    """
    outbox = _claim(outbox_id)
    if outbox is None:
        return "skipped"
    notice = (
        Notice.objects.select_related(
            "award__assessment",
            "award__fund_source",
            "award__approval_batch",
            "application__measure__policy",
        )
        .filter(pk=outbox.notice_id)
        .get()
    )
    # WeasyPrint (half a second to import) loads where a notice is rendered, not with the URLs.
    from .. import pdf

    order = ("en", "zh") if notice.language.startswith("en") else ("zh", "en")
    stored: dict[str, tuple[str, str, int]] = {}
    try:
        for language in order:
            content = pdf.write_pdf(pdf.render_html(notice, language))
            name = default_storage.save(
                f"notices/{notice.year}/{uuid.uuid4().hex}.pdf", ContentFile(content)
            )
            stored[language] = (name, hashlib.sha256(content).hexdigest(), len(content))
        return _finish(outbox_id, stored)
    except BaseException:
        _discard(stored)
        raise


def _discard(stored: dict[str, tuple[str, str, int]]) -> None:
    for name, _sha, _size in stored.values():
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("could not delete an unused notice file")


def _finish(outbox_id: int, stored: dict[str, tuple[str, str, int]]) -> str:
    with transaction.atomic():
        outbox = NoticeOutbox.objects.select_for_update().get(pk=outbox_id)
        notice = (
            Notice.objects.select_for_update()
            .select_related("application")
            .get(pk=outbox.notice_id)
        )
        if notice.status == Notice.Status.READY or outbox.status != NoticeOutbox.Status.PENDING:
            # Another run finished first (or staff acted meanwhile): keep what is there.
            transaction.on_commit(lambda: _discard(stored))
            return "done" if notice.status == Notice.Status.READY else "skipped"
        now = timezone.now()
        for language, (name, sha, size) in stored.items():
            setattr(notice, f"file_{language}", name)
            setattr(notice, f"sha256_{language}", sha)
            setattr(notice, f"size_{language}", size)
        notice.error = ""
        notice.ready_at = now
        files = [f"{field}_{lang}" for field in ("file", "sha256", "size") for lang in stored]
        outbox.status = NoticeOutbox.Status.DONE
        outbox.finished_at = now
        outbox.last_error = ""
        outbox.save(update_fields=["status", "finished_at", "last_error"])
        older = list(
            Notice.objects.select_for_update()
            .filter(
                award_id=notice.award_id, version__lt=notice.version, superseded_at__isnull=True
            )
            .values_list("pk", flat=True)
        )
        Notice.objects.filter(pk__in=older).update(superseded_at=now, superseded_by=notice)
        move(
            notice,
            NOTICE,
            "ready",
            fields=(*files, "error", "ready_at"),
            data={
                "number": notice.number,
                "version": notice.version,
                "sha256_zh": notice.sha256_zh,
                "sha256_en": notice.sha256_en,
                "supersedes": older,
            },
            public_message=f"{notice.number}",
            visible=True,
        )
        notify(notice.application, "notice_ready", number=notice.number)
    return "done"


def notice_render_failed(outbox_id: int, error: str, *, final: bool) -> int:
    """Record a failed attempt: final → failed (staff retry); else left for the retry.

    Returns the attempts made so far. A notice that is ready meanwhile is left alone.
    """
    with transaction.atomic():
        outbox = (
            NoticeOutbox.objects.select_for_update().select_related("notice").filter(pk=outbox_id)
        ).first()
        if outbox is None or outbox.status != NoticeOutbox.Status.PENDING:
            return 0
        if outbox.notice.status == Notice.Status.READY:
            return outbox.attempts
        if final or outbox.attempts >= settings.NOTICE_MAX_ATTEMPTS:
            _fail(outbox, error)
        else:
            outbox.last_error = error[:2000]
            outbox.enqueued_at = timezone.now()  # the retry is on its way
            outbox.save(update_fields=["last_error", "enqueued_at"])
        return outbox.attempts


def attempts_left(outbox_id: int) -> bool:
    outbox = NoticeOutbox.objects.filter(pk=outbox_id).only("attempts").first()
    return outbox is not None and outbox.attempts < settings.NOTICE_MAX_ATTEMPTS


def sweep_orphan_files(*, grace_seconds: int | None = None) -> int:
    """Delete notice PDFs that no notice refers to and that are older than the grace period.

    A render killed after writing its files and before its row committed leaves them behind;
    a file younger than NOTICE_ORPHAN_GRACE_SECONDS may belong to a render about to commit.
    Returns how many files were deleted.
    """
    grace = settings.NOTICE_ORPHAN_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = timezone.now() - timedelta(seconds=grace)
    try:
        years, _files = default_storage.listdir("notices")
    except FileNotFoundError:
        return 0
    removed = 0
    for year in years:
        names = [f"notices/{year}/{name}" for name in default_storage.listdir(f"notices/{year}")[1]]
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            referenced = set(
                Notice.objects.filter(Q(file_zh__in=chunk) | Q(file_en__in=chunk)).values_list(
                    "file_zh", "file_en"
                )
            )
            used = {name for pair in referenced for name in pair}
            for name in chunk:
                if name in used or default_storage.get_modified_time(name) > cutoff:
                    continue
                default_storage.delete(name)
                removed += 1
    if removed:
        logger.warning("deleted %d notice files that no notice refers to", removed)
    return removed


def sweep_outbox(*, grace_seconds: int = 30) -> int:
    """Send again the jobs the broker never took and the stale ones; returns how many were sent.

    A job enqueued but unfinished after NOTICE_STALE_SECONDS (a lost message, a worker killed
    with its message) is sent again; one that used all its attempts is marked failed.
    """
    now = timezone.now()
    due = NoticeOutbox.objects.filter(status=NoticeOutbox.Status.PENDING).filter(
        Q(enqueued_at__isnull=True, created_at__lte=now - timedelta(seconds=grace_seconds))
        | Q(enqueued_at__lte=now - timedelta(seconds=settings.NOTICE_STALE_SECONDS))
    )
    sent = 0
    for outbox_id, attempts in due.order_by("pk").values_list("pk", "attempts")[:500]:
        if attempts >= settings.NOTICE_MAX_ATTEMPTS:
            notice_render_failed(
                outbox_id, _("Gave up after %(n)d attempts.") % {"n": attempts}, final=True
            )
            continue
        if not enqueue(outbox_id):
            break  # the broker is still down: the next sweep tries again
        sent += 1
    return sent


# --- Staff actions --------------------------------------------------------------------------------


def _manager_role(user) -> str:
    for role in NOTICE_MANAGERS:
        if has_role(user, role):
            return role.value
    raise NoticeError(_("You may not act on notices."))


@transaction.atomic
def notice_retry(*, user, notice: Notice, ip: str | None = None) -> Notice:
    """Render a failed notice again (same number, same version)."""
    role = _manager_role(user)
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != Notice.Status.FAILED:
        raise NoticeError(_("Only a failed notice can be retried."))
    outbox = NoticeOutbox.objects.select_for_update().get(notice=notice)
    notice.error = ""
    outbox.status = NoticeOutbox.Status.PENDING
    outbox.attempts = 0
    outbox.enqueued_at = None
    outbox.started_at = None
    outbox.finished_at = None
    outbox.save(update_fields=["status", "attempts", "enqueued_at", "started_at", "finished_at"])
    move(
        notice,
        NOTICE,
        "retry",
        user=user,
        role=role,
        fields=("error",),
        ip=ip,
        data={"number": notice.number, "last_error": outbox.last_error[:500]},
    )
    transaction.on_commit(lambda: enqueue(outbox.pk))
    return notice


@transaction.atomic
def notice_regenerate(*, user, notice: Notice, ip: str | None = None) -> Notice:
    """Issue a new version (new number) of a valid notice; the old one is superseded when the
    new one is ready and stays verifiable as superseded."""
    role = _manager_role(user)
    award = (
        Award.objects.select_for_update(of=("self",))
        .select_related(
            "application__enterprise", "application__measure", "application__submitted_by"
        )
        .get(pk=notice.award_id)
    )
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if award.status != Award.Status.FIXED:
        raise NoticeError(_("The award is no longer fixed."))
    if notice.status != Notice.Status.READY or notice.is_superseded:
        raise NoticeError(_("Only the valid notice can be issued again."))
    if award.notices.exclude(status=Notice.Status.READY).exists():
        raise NoticeError(_("A new version is being prepared already."))
    new = notice_issue(award=award, created_by=user)
    record(
        action="notice.regenerate",
        actor=user,
        actor_role=role,
        ip=ip,
        obj=new,
        application_id=new.application_id,
        data={"number": new.number, "version": new.version, "replaces": notice.number},
    )
    return new


# --- Who may download -----------------------------------------------------------------------------


def can_download(user, notice: Notice) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if has_role(user, *NOTICE_READERS):
        return True
    return (
        has_role(user, Role.APPLICANT)
        and Membership.objects.filter(
            user=user,
            enterprise_id=notice.application.enterprise_id,
            status=Membership.Status.ACTIVE,
        ).exists()
    )


def notice_for_download(user, pk: int) -> Notice:
    """A rendered notice the user may download, else 404 (as if it did not exist)."""
    notice = Notice.objects.select_related("application").filter(pk=pk).first()
    if notice is None or notice.status != Notice.Status.READY or not can_download(user, notice):
        raise Http404
    return notice


def file_name(notice: Notice, language: str) -> str:
    suffix = "" if language == "zh" else "-EN"
    return f"{notice.number}{suffix}.pdf"


def notice_for_code(code: str) -> Notice:
    """The issued notice of a verification code (HSKB-7K3Q-9XMD-2PWA-H6TR-5CNE), else 404."""
    code = code.strip().upper()
    if not _VERIFICATION_CODE.fullmatch(code):
        raise Http404
    notice = (
        Notice.objects.filter(verification_code=code, status=Notice.Status.READY)
        .select_related("superseded_by", "award__fund_source")
        .first()
    )
    if notice is None:
        raise Http404
    return notice


_VERIFICATION_CODE = re.compile(r"[A-Z0-9]{1,20}(?:-[0-9A-Z]{4}){5}")


def matches(notice: Notice, sha256: str) -> str | None:
    """The language of the notice's PDF with this SHA-256, or None."""
    for language in LANGUAGES:
        if sha256 and getattr(notice, f"sha256_{language}") == sha256:
            return language
    return None
