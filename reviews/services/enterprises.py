"""Enterprise verification: the Bureau of Commerce checks that an enterprise's administrator may
represent it (business licence, authorisation letter signed by the legal representative), and
resolves disputes over who administers an enterprise.

Every decision: a commerce reviewer who is neither the claimant nor a member of the enterprise
(four eyes), the claim row locked and its status re-checked, a reason for anything but approval,
an audit event, and the enterprise told through the notifications module.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Enterprise, EnterpriseClaim, EnterpriseDocument, Membership
from hengyang_cbec.accounts.roles import Role, grant_role, has_role
from hengyang_cbec.audit.services import record
from hengyang_cbec.notifications.services import notify_enterprise

from .steps import FourEyesViolation, ReviewError, _require_role

Status = EnterpriseClaim.Status
COMMERCE = Role.COMMERCE_REVIEWER


def claims_queue():
    """The claims of the verification queue with what its table shows, in a constant number of
    queries: the enterprise, the claimant, and counts of documents by scan state."""
    current = Q(documents__superseded_at__isnull=True)
    return EnterpriseClaim.objects.select_related("enterprise", "claimant", "decided_by").annotate(
        document_count=Count("documents", filter=current),
        clean_count=Count("documents", filter=current & Q(documents__scan_state="clean")),
        infected_count=Count("documents", filter=current & Q(documents__scan_state="infected")),
        has_rival=Exists(
            EnterpriseClaim.objects.filter(
                enterprise_id=OuterRef("enterprise_id"), status__in=EnterpriseClaim.OPEN
            ).exclude(pk=OuterRef("pk"))
        ),
    )


def _lock_claim(claim: EnterpriseClaim | int) -> EnterpriseClaim:
    pk = claim if isinstance(claim, int) else claim.pk
    claim = EnterpriseClaim.objects.select_for_update().filter(pk=pk).first()
    if claim is None:
        raise Http404
    return claim


def _check_four_eyes(claim: EnterpriseClaim, user) -> None:
    """The verifier is neither the claimant nor anyone who belongs to (or asked to join) the
    enterprise, nor the other party of a dispute."""
    if claim.claimant_id == user.pk:
        raise FourEyesViolation(_("You may not decide on your own claim."))
    if Membership.objects.filter(user=user, enterprise_id=claim.enterprise_id).exists():
        raise FourEyesViolation(
            _("You belong to this enterprise, so another reviewer must decide on it.")
        )


def _checked(claim: EnterpriseClaim, user, kind: str) -> str:
    role = _require_role(user, COMMERCE)
    _check_four_eyes(claim, user)
    if claim.kind != kind:
        raise ReviewError(_("This decision does not fit this kind of claim."))
    if claim.status != Status.PENDING:
        raise ReviewError(_("This claim has been decided already, or waits for new documents."))
    return role


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Give the reason: the enterprise reads it."))
    return reason[:2000]


def _documents_ready(claim: EnterpriseClaim) -> None:
    current = list(claim.documents.filter(superseded_at__isnull=True))
    clean = {d.kind for d in current if d.scan_state == "clean"}
    if any(kind not in clean for kind in EnterpriseDocument.REQUIRED):
        raise ReviewError(
            _(
                "The business licence and the authorisation letter must both be present and "
                "checked by the virus scan before the enterprise can be verified."
            )
        )


def _decide(claim: EnterpriseClaim, user, status: str, reason: str = "") -> None:
    claim.status = status
    claim.reason = reason
    claim.decided_at = timezone.now()
    claim.decided_by = user
    claim.save(update_fields=["status", "reason", "decided_at", "decided_by", "updated_at"])


def _audit(action: str, user, role: str, claim: EnterpriseClaim, *, ip=None, **data) -> None:
    record(
        action=f"enterprise.{action}",
        actor=user,
        actor_role=role,
        ip=ip,
        obj=claim,
        data={"enterprise": claim.enterprise_id, "claimant": claim.claimant_id, **data},
    )


def _set_verification(enterprise: Enterprise, state: str, user=None) -> None:
    enterprise.verification = state
    fields = ["verification", "updated_at"]
    if state == Enterprise.Verification.VERIFIED:
        enterprise.verified_at, enterprise.verified_by = timezone.now(), user
        fields += ["verified_at", "verified_by"]
    enterprise.save(update_fields=fields)


@transaction.atomic
def claim_verify(*, user, claim: EnterpriseClaim | int, ip=None) -> EnterpriseClaim:
    """The documents prove the claim: the enterprise is verified and may submit."""
    claim = _lock_claim(claim)
    role = _checked(claim, user, EnterpriseClaim.Kind.REGISTRATION)
    _documents_ready(claim)
    enterprise = Enterprise.objects.select_for_update().get(pk=claim.enterprise_id)
    _decide(claim, user, Status.VERIFIED)
    _set_verification(enterprise, Enterprise.Verification.VERIFIED, user)
    _audit("verify", user, role, claim, ip=ip)
    notify_enterprise(enterprise, "enterprise_verified")
    return claim


@transaction.atomic
def claim_return(*, user, claim: EnterpriseClaim | int, reason: str, ip=None) -> EnterpriseClaim:
    """The documents do not suffice yet: the claimant uploads new ones."""
    claim = _lock_claim(claim)
    role = _checked(claim, user, claim.kind)
    reason = _reason(reason)
    claim.status, claim.reason = Status.RETURNED, reason
    claim.save(update_fields=["status", "reason", "updated_at"])
    enterprise = Enterprise.objects.select_for_update().get(pk=claim.enterprise_id)
    if claim.kind == EnterpriseClaim.Kind.REGISTRATION:
        _set_verification(enterprise, Enterprise.Verification.RETURNED)
        notify_enterprise(enterprise, "enterprise_returned", reason=reason)
    else:
        _notify_claimant(claim, "enterprise_returned", reason=reason)
    _audit("return", user, role, claim, ip=ip, reason=reason)
    return claim


def _notify_claimant(claim: EnterpriseClaim, event: str, **context) -> None:
    """Only the claimant of a dispute is told: the enterprise's members are not (yet) theirs."""
    from hengyang_cbec.notifications.services import _write, render_message

    texts = render_message(event, {"enterprise": claim.enterprise, **context})
    _write([claim.claimant], None, texts["zh-hans"], texts["en"])


@transaction.atomic
def claim_reject(*, user, claim: EnterpriseClaim | int, reason: str, ip=None) -> EnterpriseClaim:
    """The claimant has not shown the right to represent the enterprise: the registration ends,
    its members lose access, and the code is free for the real enterprise to register."""
    claim = _lock_claim(claim)
    role = _checked(claim, user, EnterpriseClaim.Kind.REGISTRATION)
    reason = _reason(reason)
    enterprise = Enterprise.objects.select_for_update().get(pk=claim.enterprise_id)
    if enterprise.applications.exclude(state="draft").exists():
        raise ReviewError(
            _("This enterprise has submitted applications: resolve it as a dispute instead.")
        )
    _decide(claim, user, Status.REJECTED, reason)
    _set_verification(enterprise, Enterprise.Verification.REJECTED)
    notify_enterprise(enterprise, "enterprise_rejected", reason=reason, also=[claim.claimant])
    ended = Membership.objects.filter(
        enterprise=enterprise, status__in=[Membership.Status.ACTIVE, Membership.Status.PENDING]
    ).update(status=Membership.Status.DECLINED, decided_at=timezone.now(), decided_by=user)
    _audit("reject", user, role, claim, ip=ip, reason=reason, memberships_ended=ended)
    return claim


def _attach(claim: EnterpriseClaim, user, evidence) -> dict | None:
    """The bureau's own evidence on a dispute (a record of a call to the legal representative,
    the other side's papers), through the same upload checks and virus scan."""
    if not evidence:
        return None
    from applications.enterprises import add_document
    from applications.services import ApplicationError

    try:
        document = add_document(
            user=user, claim=claim, kind=EnterpriseDocument.Kind.OTHER, upload=evidence
        )
    except ApplicationError as exc:
        raise ReviewError(str(exc)) from None
    return {"document": document.pk, "sha256": document.sha256, "size": document.size}


@transaction.atomic
def dispute_decide(
    *, user, claim: EnterpriseClaim | int, transfer: bool, reason: str, evidence=None, ip=None
) -> EnterpriseClaim:
    """Keep the current administrator, or transfer the administration to the claimant (whose
    documents the bureau has checked: the enterprise is then verified). `evidence`: an optional
    file the bureau keeps with its decision."""
    claim = _lock_claim(claim)
    role = _checked(claim, user, EnterpriseClaim.Kind.DISPUTE)
    reason = _reason(reason)
    attached = _attach(claim, user, evidence)
    enterprise = Enterprise.objects.select_for_update().get(pk=claim.enterprise_id)
    claimant = claim.claimant
    if not transfer:
        _decide(claim, user, Status.KEPT, reason)
        notify_enterprise(enterprise, "enterprise_dispute_kept", reason=reason, also=[claimant])
        _audit("dispute_keep", user, role, claim, ip=ip, reason=reason, evidence=attached)
        return claim
    _documents_ready(claim)
    if (
        Membership.objects.filter(user=claimant, status=Membership.Status.ACTIVE)
        .exclude(enterprise=enterprise)
        .exists()
    ):
        raise ReviewError(_("The claimant belongs to another enterprise now."))
    _decide(claim, user, Status.TRANSFERRED, reason)
    previous = list(
        Membership.objects.filter(
            enterprise=enterprise,
            role=Membership.Role.ADMINISTRATOR,
            status=Membership.Status.ACTIVE,
        )
        .exclude(user=claimant)
        .select_related("user")
    )
    context = {"reason": reason, "claimant": claimant.full_name or claimant.username}
    # The previous administrators are told before they lose access.
    notify_enterprise(enterprise, "enterprise_dispute_transferred", **context)
    Membership.objects.filter(pk__in=[m.pk for m in previous]).update(
        status=Membership.Status.DECLINED, decided_at=timezone.now(), decided_by=user
    )
    Membership.objects.update_or_create(
        user=claimant,
        enterprise=enterprise,
        defaults={
            "role": Membership.Role.ADMINISTRATOR,
            "status": Membership.Status.ACTIVE,
            "decided_at": timezone.now(),
            "decided_by": user,
        },
    )
    if not has_role(claimant, Role.APPLICANT):
        grant_role(claimant, Role.APPLICANT)
    # Other claims on the enterprise are settled by this decision.
    for other in EnterpriseClaim.objects.select_for_update().filter(
        enterprise=enterprise, status__in=EnterpriseClaim.OPEN
    ):
        _decide(other, user, Status.REJECTED, reason)
    _set_verification(enterprise, Enterprise.Verification.VERIFIED, user)
    if not any(m.user_id == claimant.pk for m in previous):
        _notify_claimant(claim, "enterprise_dispute_transferred", **context)
    _audit(
        "dispute_transfer",
        user,
        role,
        claim,
        ip=ip,
        reason=reason,
        evidence=attached,
        previous_administrators=[m.user_id for m in previous],
    )
    return claim


def document_for_staff(user, pk: int) -> EnterpriseDocument:
    """A clean document for a commerce reviewer; else 404."""
    document = EnterpriseDocument.objects.select_related("claim").filter(pk=pk).first()
    if document is None or document.scan_state != "clean" or not has_role(user, COMMERCE):
        raise Http404
    return document


def record_document_download(user, document: EnterpriseDocument, *, ip=None) -> None:
    record(
        action="enterprise.document_download",
        actor=user,
        actor_role=COMMERCE.value,
        ip=ip,
        obj=document,
        data={"claim": document.claim_id, "kind": document.kind, "sha256": document.sha256},
    )
