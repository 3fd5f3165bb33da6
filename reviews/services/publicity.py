"""Public notice (公示) of committed awards and the objections lodged against them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application
from applications.services import notify
from applications.workflow import Action, State, TransitionRefused, move_application, transition_for
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.services import record, record_action
from hengyang_cbec.errors import PortalError

from ..models import Award, Objection, PublicNoticeBatch, PublicNoticeItem, Stage
from ..models.publicity import ScanState
from .steps import (
    ReviewError,
    _cancel_live_award,
    _check_version,
    _conclude,
    _four_eyes,
    _lock,
    _lock_many,
    _money,
    _require_role,
    _transition,
)

logger = logging.getLogger(__name__)


@transaction.atomic
def notice_publish(*, user, application_ids: Iterable[int], ip=None) -> PublicNoticeBatch:
    """Publish a notice batch (all or nothing); with PUBLIC_NOTICE_DAYS = 0 it closes at once."""
    role = _require_role(user, Role.APPROVAL_REGISTRAR)
    applications = _lock_many(application_ids)
    if not applications:
        raise ReviewError(_("Choose at least one application."))
    items = []
    for application in applications:
        if application.state != State.PUBLIC_NOTICE:
            raise TransitionRefused(
                _("%(ref)s is not waiting for public notice.") % {"ref": application.reference}
            )
        _four_eyes(application, user, "registrar")
        if PublicNoticeItem.objects.filter(
            application=application, status=PublicNoticeItem.Status.LISTED
        ).exists():
            raise ReviewError(
                _("%(ref)s is on public notice already.") % {"ref": application.reference}
            )
        award = Award.objects.get(application=application, status=Award.Status.COMMITTED)
        items.append((application, award))
    now = timezone.now()
    days = settings.PUBLIC_NOTICE_DAYS
    batch = PublicNoticeBatch.objects.create(
        published_by=user, published_at=now, period_days=days, ends_at=now + timedelta(days=days)
    )
    PublicNoticeItem.objects.bulk_create(
        PublicNoticeItem(
            batch=batch,
            application=application,
            award=award,
            enterprise_name=application.enterprise.name,
            measure_code=application.measure.code,
            measure_title_zh=application.measure.title_zh,
            measure_title_en=application.measure.title_en,
            amount_cny=award.amount_cny,
        )
        for application, award in items
    )
    for application, award in items:
        application.version += 1
        application.save(update_fields=["version", "updated_at"])
        record_action(
            application,
            "review.notice_publish",
            user,
            role,
            ip=ip,
            data={
                "batch": batch.pk,
                "ends_at": batch.ends_at,
                "amount_cny": _money(award.amount_cny),
            },
            visible=True,
        )
        if days:
            notify(application, "notice_published", ends_at=batch.ends_at)
    if days == 0:
        for application, _award in items:
            _close_notice(application, user, role, ip=ip)
        batch.closed_at = now
        batch.save(update_fields=["closed_at"])
    return batch


def _close_notice(application: Application, user, role: str, *, ip=None) -> None:
    """CLOSE_NOTICE on a locked application (caller holds the lock and checked the role)."""
    transition = transition_for(application.state, Action.CLOSE_NOTICE, role)
    item = (
        PublicNoticeItem.objects.select_for_update(of=("self",))
        .filter(application=application, status=PublicNoticeItem.Status.LISTED)
        .select_related("batch")
        .order_by("pk")
        .first()
    )
    if item is None:
        raise ReviewError(_("This application has not been published for public notice."))
    if item.batch.ends_at > timezone.now():
        raise ReviewError(_("The public notice period is not over yet."))
    if application.objections.filter(status=Objection.Status.OPEN).exists():
        raise ReviewError(_("An open objection holds this application until it is resolved."))
    item.status = PublicNoticeItem.Status.CLOSED
    item.save(update_fields=["status"])
    move_application(application, transition)
    record_action(
        application,
        f"review.{Action.CLOSE_NOTICE.value}",
        user,
        role,
        ip=ip,
        data={"batch": item.batch_id},
        visible=True,
    )
    notify(application, "notice_closed")


@transaction.atomic
def notice_close(*, user, application: Application, version: int | None = None, ip=None):
    """Close one application's notice whose period is over (registrar, or the system: user None)."""
    application = _lock(application)
    _transition_obj, role = _transition(application, Action.CLOSE_NOTICE, user)
    _check_version(application, version)
    if user is not None:
        _four_eyes(application, user, "registrar")
    _close_notice(application, user, role, ip=ip)
    return application


def close_due_notices(*, user=None, ip=None) -> int:
    """Close every notice whose period is over and that no open objection holds (beat task, or
    the registrar's button: then `user` and `ip` are the registrar's)."""
    now = timezone.now()
    ids = list(
        PublicNoticeItem.objects.filter(
            status=PublicNoticeItem.Status.LISTED, batch__ends_at__lte=now
        )
        .exclude(application__objections__status=Objection.Status.OPEN)
        .values_list("application_id", flat=True)
    )
    closed = 0
    for pk in ids:
        try:
            notice_close(user=user, application=pk, ip=ip)
        except PortalError as exc:
            logger.info("notice of application %s not closed: %s", pk, exc)
            continue
        closed += 1
    PublicNoticeBatch.objects.filter(closed_at__isnull=True, ends_at__lte=now).exclude(
        items__status=PublicNoticeItem.Status.LISTED
    ).update(closed_at=now)
    return closed


def open_notice_items():
    return (
        PublicNoticeItem.objects.filter(
            status=PublicNoticeItem.Status.LISTED, batch__ends_at__gt=timezone.now()
        )
        .select_related("batch")
        .order_by("batch__ends_at", "id")
    )


@transaction.atomic
def objection_lodge(
    *, user, item: PublicNoticeItem | int, real_name: str, contact: str, text: str, upload=None,
    ip=None,
) -> Objection:  # fmt: skip
    """A logged-in person objects, under their real name, to an award on public notice."""
    from applications.uploads import UploadRejected, inspect_upload, storage_name

    if not getattr(user, "is_authenticated", False):
        raise ReviewError(_("Log in to lodge an objection."))
    item_id = item if isinstance(item, int) else item.pk
    item = PublicNoticeItem.objects.select_related("batch").filter(pk=item_id).first()
    if item is None:
        raise ReviewError(_("This notice does not exist."))
    application = _lock(item.application_id)
    item = (
        PublicNoticeItem.objects.select_for_update(of=("self",))
        .select_related("batch")
        .get(pk=item.pk)
    )
    if item.status != PublicNoticeItem.Status.LISTED or item.batch.ends_at <= timezone.now():
        raise ReviewError(_("The public notice period of this award is over."))
    real_name, contact, text = real_name.strip(), contact.strip(), text.strip()
    if not real_name or not contact or not text:
        raise ReviewError(_("Give your real name, a phone number or e-mail, and your objection."))
    objection = Objection(
        item=item,
        application=application,
        author=user,
        real_name=real_name[:100],
        contact=contact[:100],
        text=text[:5000],
    )
    if upload is not None:
        try:
            checked = inspect_upload(upload, allow_zip=False)
        except UploadRejected as exc:
            raise ReviewError(str(getattr(exc, "message", exc))) from None
        upload.seek(0)
        name = default_storage.save(storage_name(prefix="objections", kind=checked.kind), upload)
        objection.file.name = name
        objection.file_name = checked.original_name[:200]
        objection.file_type = checked.content_type[:100]
    objection.save()
    if objection.file:
        from ..tasks import scan_objection_file

        objection_id = objection.pk
        transaction.on_commit(lambda: scan_objection_file.delay(objection_id))
    record(
        action="review.objection_lodge",
        actor=user,
        ip=ip,
        obj=objection,
        application_id=application.pk,
        data={"item": item.pk, "file": bool(objection.file)},
        visible_to_applicant=True,
    )
    notify(application, "objection_lodged")
    return objection


@transaction.atomic
def objection_resolve(
    *, user, objection: Objection | int, upheld: bool, resolution: str, version: int, ip=None
) -> Objection:
    """A commerce reviewer resolves an objection: upheld → back to commerce review (the budget
    commitment is released); dismissed → the application continues when nothing else holds it."""
    objection_id = objection if isinstance(objection, int) else objection.pk
    application_id = Objection.objects.values_list("application_id", flat=True).get(pk=objection_id)
    application = _lock(application_id)
    objection = Objection.objects.select_for_update().get(pk=objection_id)
    if upheld:
        transition, role = _transition(application, Action.UPHOLD_OBJECTION, user)
    else:
        role = _require_role(user, Role.COMMERCE_REVIEWER)
        if application.state != State.PUBLIC_NOTICE:
            raise TransitionRefused(_("The application is no longer on public notice."))
    _check_version(application, version)
    _four_eyes(application, user, "commerce_reviewer")
    if objection.status != Objection.Status.OPEN:
        raise ReviewError(_("This objection has been resolved already."))
    resolution = (resolution or "").strip()
    if not resolution:
        raise ReviewError(_("Explain the resolution."))
    now = timezone.now()
    objection.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    objection.resolution = resolution[:4000]
    objection.resolved_by = user
    objection.resolved_at = now
    objection.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    if upheld:
        others = Objection.objects.filter(item=objection.item, status=Objection.Status.OPEN)
        for other in others.exclude(pk=objection.pk):
            other.status = Objection.Status.UPHELD
            other.resolution = resolution[:4000]
            other.resolved_by = user
            other.resolved_at = now
            other.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
        PublicNoticeItem.objects.filter(pk=objection.item_id).update(
            status=PublicNoticeItem.Status.WITHDRAWN
        )
        award = _cancel_live_award(application, user, role, release=True)
        _conclude(
            application, transition, Action.UPHOLD_OBJECTION, Stage.COMMERCE, user, role, ip=ip,
            message=resolution, public_message=resolution,
            data={
                "objection": objection.pk,
                "released_cny": _money(award.amount_cny) if award else None,
            },
        )  # fmt: skip
        notify(application, "objection_upheld", resolution=resolution)
    else:
        application.version += 1
        application.save(update_fields=["version", "updated_at"])
        record_action(
            application,
            "review.objection_dismiss",
            user,
            role,
            ip=ip,
            data={"objection": objection.pk},
            public_message=resolution,
            visible=True,
        )
    return objection


def objection_file_for_download(objection: Objection) -> Objection:
    """The objection's file if it may leave the portal (scanned clean); else 404."""
    if not objection.file or objection.scan_state != ScanState.CLEAN:
        raise Http404("not downloadable")
    return objection


def record_objection_file_download(*, user, objection: Objection, ip=None) -> None:
    """The objection's file left the portal: who, which file."""
    record(
        action="review.objection_file_download",
        actor=user,
        ip=ip,
        obj=objection,
        application_id=objection.application_id,
        data={"file": objection.file_name},
    )
