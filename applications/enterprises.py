"""The applicant's claim to represent an enterprise: registration with documents, disputes,
answering a return. The bureau's decisions are in reviews/services/enterprises.py.

Registering a credit code asks for the business licence and an authorisation letter naming the
account holder, signed by the legal representative. Until the Bureau of Commerce has verified
the enterprise, nothing can be submitted for it (services.submission_blocker). A claim on a code
that is registered already is a dispute the bureau resolves, never a silent join request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from hengyang_cbec.audit.services import record
from hengyang_cbec.queueing import publish

from .models import Enterprise, EnterpriseClaim, EnterpriseDocument, Membership
from .services import PROFILE_FIELDS, ApplicationError, active_membership
from .uploads import UploadRejected, inspect_upload, safe_display_name, storage_name
from .workflow import APPLICANT

Kind = EnterpriseDocument.Kind


def _audit(action: str, user, claim: EnterpriseClaim, *, ip=None, data=None) -> None:
    record(
        action=f"enterprise.{action}",
        actor=user,
        actor_role=APPLICANT,
        ip=ip,
        obj=claim,
        data={"enterprise": claim.enterprise_id, "uscc": claim.enterprise.uscc, **(data or {})},
    )


def add_document(*, user, claim: EnterpriseClaim, kind: str, upload: UploadedFile):
    """Checked by content like evidence, stored under a generated name, scanned after commit."""
    try:
        checked = inspect_upload(upload, allow_zip=False)
    except UploadRejected as exc:
        label = Kind(kind).label
        raise ApplicationError(
            _("“%(name)s” (%(document)s) was not accepted: %(reason)s")
            % {
                "name": safe_display_name(upload.name or ""),
                "document": label,
                "reason": exc.message,
            }
        ) from None
    document = EnterpriseDocument(
        claim=claim,
        kind=kind,
        original_name=safe_display_name(upload.name or ""),
        file_kind=checked.kind,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=user,
    )
    upload.seek(0)
    document.file.save(
        storage_name(prefix="enterprise-documents", kind=checked.kind), upload, save=False
    )
    document.save()
    from .tasks import scan_enterprise_document

    # Left pending when the broker is down: rescan_pending_evidence sends it again.
    transaction.on_commit(lambda: publish(scan_enterprise_document, document.pk))
    return document


def _add_documents(*, user, claim, documents: Mapping[str, UploadedFile | None]) -> list[dict]:
    missing = [Kind(k).label for k in EnterpriseDocument.REQUIRED if not documents.get(k)]
    if missing:
        raise ApplicationError(
            _("Upload these documents: %(documents)s.")
            % {"documents": _("; ").join(str(m) for m in missing)}
        )
    added = []
    for kind in (*EnterpriseDocument.REQUIRED, Kind.OTHER):
        upload = documents.get(kind)
        if upload:
            document = add_document(user=user, claim=claim, kind=kind, upload=upload)
            added.append({"kind": kind, "sha256": document.sha256, "size": document.size})
    return added


def open_claim(user) -> EnterpriseClaim | None:
    return (
        EnterpriseClaim.objects.select_related("enterprise")
        .filter(claimant=user, status__in=EnterpriseClaim.OPEN)
        .first()
    )


@transaction.atomic
def enterprise_register(
    *,
    user,
    uscc: str,
    data: Mapping[str, Any],
    documents: Mapping[str, UploadedFile | None],
    statement: str = "",
    ip=None,
) -> EnterpriseClaim:
    """Register a credit code with its documents, or lodge a dispute when it is registered.

    A new code: the enterprise is created (waiting for verification) and the user becomes its
    administrator. A code whose registration was rejected: the user registers it anew. A code
    registered by someone else: a dispute, the profile left as it is.
    """
    if active_membership(user) is not None:
        raise ApplicationError(_("Your account already belongs to an enterprise."))
    if open_claim(user) is not None:
        raise ApplicationError(
            _("Your earlier claim is still waiting for the Bureau of Commerce's decision.")
        )
    enterprise = Enterprise.objects.select_for_update().filter(uscc=uscc).first()
    profile = {name: data[name] for name in PROFILE_FIELDS}
    if enterprise is not None and enterprise.verification != Enterprise.Verification.REJECTED:
        claim = EnterpriseClaim.objects.create(
            enterprise=enterprise,
            claimant=user,
            kind=EnterpriseClaim.Kind.DISPUTE,
            statement=statement.strip()[:4000],
        )
        added = _add_documents(user=user, claim=claim, documents=documents)
        _audit("dispute", user, claim, ip=ip, data={"documents": added})
        return claim
    if enterprise is None:
        enterprise = Enterprise(uscc=uscc, **profile)
    else:  # rejected earlier: the real enterprise registers it anew
        for name, value in profile.items():
            setattr(enterprise, name, value)
        enterprise.verification = Enterprise.Verification.PENDING
    enterprise.full_clean()
    enterprise.save()
    Membership.objects.update_or_create(
        user=user,
        enterprise=enterprise,
        defaults={
            "role": Membership.Role.ADMINISTRATOR,
            "status": Membership.Status.ACTIVE,
            "decided_at": timezone.now(),
        },
    )
    claim = EnterpriseClaim.objects.create(
        enterprise=enterprise,
        claimant=user,
        kind=EnterpriseClaim.Kind.REGISTRATION,
        statement=statement.strip()[:4000],
    )
    added = _add_documents(user=user, claim=claim, documents=documents)
    record(action="enterprise.register", actor=user, actor_role=APPLICANT, ip=ip, obj=enterprise)
    _audit("claim", user, claim, ip=ip, data={"documents": added})
    # What official statistics already found for this credit code is now the enterprise's.
    from reviews.services.entitlements import match_registered

    transaction.on_commit(lambda: match_registered(uscc))
    return claim


@transaction.atomic
def claim_resubmit(
    *, user, claim: EnterpriseClaim, documents: Mapping[str, UploadedFile | None], ip=None
) -> EnterpriseClaim:
    """Answer a return: new documents replace the earlier ones (kept in the record)."""
    claim = (
        EnterpriseClaim.objects.select_for_update().select_related("enterprise").get(pk=claim.pk)
    )
    if claim.claimant_id != user.pk:
        raise ApplicationError(_("Only the person who lodged the claim may answer it."))
    if claim.status != EnterpriseClaim.Status.RETURNED:
        raise ApplicationError(_("This claim is not waiting for new documents."))
    claim.documents.filter(superseded_at__isnull=True).update(superseded_at=timezone.now())
    added = _add_documents(user=user, claim=claim, documents=documents)
    claim.status = EnterpriseClaim.Status.PENDING
    claim.save(update_fields=["status", "updated_at"])
    if claim.kind == EnterpriseClaim.Kind.REGISTRATION:
        Enterprise.objects.filter(pk=claim.enterprise_id).update(
            verification=Enterprise.Verification.PENDING
        )
    _audit("resubmit", user, claim, ip=ip, data={"documents": added})
    return claim


def claims_for(user):
    """The claims a person follows: their own, and those on the enterprise they administer."""
    membership = active_membership(user)
    mine = EnterpriseClaim.objects.filter(claimant=user)
    if membership is not None and membership.role == Membership.Role.ADMINISTRATOR:
        mine = mine | EnterpriseClaim.objects.filter(
            enterprise_id=membership.enterprise_id, kind=EnterpriseClaim.Kind.REGISTRATION
        )
    current = EnterpriseDocument.objects.filter(superseded_at__isnull=True)
    return (
        mine.select_related("enterprise", "decided_by")
        .prefetch_related(Prefetch("documents", queryset=current, to_attr="current_documents"))
        .order_by("-created_at", "-pk")
    )


def document_for_claimant(user, pk: int) -> EnterpriseDocument | None:
    """A clean document the user uploaded to one of their own claims, else None (the bureau's
    evidence on a dispute is the bureau's)."""
    return (
        EnterpriseDocument.objects.select_related("claim")
        .filter(pk=pk, claim__claimant=user, uploaded_by=user, scan_state="clean")
        .first()
    )
