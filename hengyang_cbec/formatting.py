"""How values read on every page, e-mail and export: one place, the same everywhere.

Yes/no as 是/否, amounts with thousands separators and their unit (1,200,000.00 美元,
500,000.00 元), a fact by its catalogue definition (an entity type by its name, never its
code), a person by name and unit, an audit event as a sentence. Templates use these through
the `display` filters (`hengyang_cbec/templatetags/display.py`); Python code (notifications,
exports) calls them directly. Money is Decimal throughout; nothing passes through float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from .i18n import english_active

DASH = "—"


def colon() -> str:
    """The colon after a label: full-width "：" in Chinese, ": " in English."""
    return ": " if english_active() else "："


def quoted(text: str) -> str:
    """Text in quotation marks; quotes inside become ‘’ in Chinese (“支持‘衡阳产品出海’”)."""
    inner = str(text).replace("\u201c", "\u2018").replace("\u201d", "\u2019")
    return f"\u201c{inner}\u201d"


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def number(value: Any, places: int = 2) -> str:
    """1200000 -> "1,200,000.00" (places=0: "1,200,000"); text that is no number stays as is."""
    amount = _decimal(value)
    if amount is None:
        return DASH if value is None or value == "" else str(value)
    return f"{amount:,.{places}f}"


def yes_no(value: Any) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        value = value.strip().lower() in {"true", "1", "yes", "on"}
    return _("Yes") if value else _("No")


def cny(value: Any) -> str:
    """500000 -> "500,000.00 元" (English: "CNY 500,000.00")."""
    if _decimal(value) is None:
        return number(value)
    return _("CNY %(amount)s") % {"amount": number(value)}


def usd(value: Any) -> str:
    """1200000 -> "1,200,000.00 美元" (English: "USD 1,200,000.00")."""
    if _decimal(value) is None:
        return number(value)
    return _("USD %(amount)s") % {"amount": number(value)}


def sqm(value: Any) -> str:
    if _decimal(value) is None:
        return number(value)
    return _("%(area)s m²") % {"area": number(value)}


def when(value: Any) -> str:
    """A moment as the portal prints it (Beijing time): 2026-11-30 10:56."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return DASH if value in (None, "") else str(value)


def _catalogue():
    from policies.services import current_catalogue

    return current_catalogue()


def entity_type(code: str) -> str:
    """An entity type code ("enterprise") as its name in the page's language."""
    if not code:
        return DASH
    item = _catalogue().entity_types.get(code)
    if not item:
        return str(code)
    return str(item.get("label_en" if english_active() else "label_zh", code))


def catalogue_names(text: str) -> str:
    """Codes of the catalogue that appear in running text (overlap groups such as
    volume_reward) replaced by their names in quotation marks."""
    import re

    for code, group in _catalogue().overlap_groups.items():
        name = group.name_en if english_active() else group.name_zh
        if name:
            # A code that is also an English word ("training") only where it names the group.
            tail = "" if "_" in code else r"(?=\s*=)"
            text = re.sub(rf"(?<![\w-]){re.escape(code)}(?![\w-]){tail}", quoted(name), str(text))
    return text


def fact_value(name: str, value: Any) -> str:
    """A fact's value as a person reads it, by the catalogue's definition of the fact."""
    if value is None or value == "":
        return DASH
    fact = _catalogue().facts.get(name)
    if fact is None:
        return str(value)
    kind = fact.kind
    if kind == "bool":
        return yes_no(value)
    if name == "year":
        return str(value)
    if kind == "money_cny":
        return cny(value)
    if kind == "money_usd":
        return usd(value)
    if kind == "area_sqm":
        return sqm(value)
    if kind == "rate":
        rate = _decimal(value)
        return str(value) if rate is None else f"{(rate * 100).normalize():f}%"
    if kind == "int":
        text = number(value, places=0)
        unit = fact.unit_en if english_active() else fact.unit_zh
        return f"{text} {unit}".strip() if english_active() else f"{text}{unit}"
    if kind == "choice":
        label_zh, label_en = fact.choice_label(str(value))
        return label_en if english_active() else label_zh
    if kind == "date":
        return when(value)
    return str(value)


def person(user, fallback: str = "") -> str:
    """A person by name and unit: 张伟（市商务局）; the username only when there is no name."""
    if user is None:
        return fallback or _("the system")
    name = (getattr(user, "full_name", "") or "").strip() or getattr(user, "username", "")
    unit_code = getattr(user, "unit", "") or ""
    if unit_code:
        units = _catalogue().responsible_units
        unit = units.get(unit_code, {}).get("name_en" if english_active() else "name_zh")
        if unit and unit not in name:
            name = f"{name} ({unit})" if english_active() else f"{name}（{unit}）"
    return name


# What each audited action says, with %(actor)s the person who did it. An action missing here reads
# as "%(actor)s: <the action>" (see event_sentence) and a test lists the actions the code records.
EVENT_SENTENCES = {
    "application.start": gettext_lazy("%(actor)s started the draft."),
    "application.submit": gettext_lazy("%(actor)s submitted the application."),
    "application.resubmit": gettext_lazy("%(actor)s corrected and resubmitted the application."),
    "application.withdraw": gettext_lazy("%(actor)s withdrew the application."),
    "application.discard": gettext_lazy("%(actor)s deleted the draft."),
    "application.lapse": gettext_lazy("The correction deadline passed; the application lapsed."),
    "application.evidence_add": gettext_lazy("%(actor)s uploaded a document: %(document)s."),
    "application.evidence_remove": gettext_lazy("%(actor)s removed a document: %(document)s."),
    "application.evidence_replace": gettext_lazy("%(actor)s replaced a document: %(document)s."),
    "application.evidence_withdraw": gettext_lazy(
        "%(actor)s withdrew a document, kept in the record: %(document)s."
    ),
    "review.submit": gettext_lazy("%(actor)s submitted the application."),
    "review.resubmit": gettext_lazy("%(actor)s corrected and resubmitted the application."),
    "review.withdraw": gettext_lazy("%(actor)s withdrew the application."),
    "review.lapse": gettext_lazy("The correction deadline passed; the application lapsed."),
    "review.disburse": gettext_lazy("%(actor)s recorded the payment: %(amount)s."),
    "review.take": gettext_lazy("%(actor)s took the application for review."),
    "review.assign": gettext_lazy("%(actor)s assigned the application to a reviewer."),
    "review.assigned_to": gettext_lazy("%(actor)s assigned the application to a reviewer."),
    "review.verify": gettext_lazy("%(actor)s saved verified figures and recomputed the amount."),
    "review.coreview_request": gettext_lazy("%(actor)s asked other departments for opinions."),
    "review.coreview_answer": gettext_lazy("%(actor)s gave a co-review opinion."),
    "review.return": gettext_lazy("%(actor)s returned the application for correction."),
    "review.reject": gettext_lazy("%(actor)s rejected the application."),
    "review.recommend": gettext_lazy("%(actor)s approved it at commerce review: %(amount)s."),
    "review.return_to_commerce": gettext_lazy("%(actor)s sent it back to commerce review."),
    "review.commit": gettext_lazy("%(actor)s approved it and committed %(amount)s to a budget."),
    "review.notice_publish": gettext_lazy("%(actor)s published the award for public notice."),
    "review.close_notice": gettext_lazy("The public notice period closed."),
    "review.objection_lodge": gettext_lazy("An objection was lodged during the public notice."),
    "review.objection_dismiss": gettext_lazy("%(actor)s dismissed an objection."),
    "review.uphold_objection": gettext_lazy("%(actor)s upheld an objection."),
    "review.record_approval": gettext_lazy("%(actor)s recorded the government's approval."),
    "award.committed": gettext_lazy("%(actor)s committed the award of %(amount)s to a budget."),
    "award.cancelled": gettext_lazy("%(actor)s cancelled the award."),
    "award.fixed": gettext_lazy("The award was fixed at %(amount)s."),
    "notice.ready": gettext_lazy("The approval notice is ready to download."),
    "notice.failed": gettext_lazy("The approval notice could not be produced yet; it is retried."),
    "notice.retry": gettext_lazy("%(actor)s asked to produce the approval notice again."),
    "notice.regenerate": gettext_lazy("%(actor)s had the approval notice produced anew."),
    "notice.download": gettext_lazy("%(actor)s downloaded the approval notice."),
    "evidence.download": gettext_lazy("%(actor)s opened a document."),
    "finance.batch_create": gettext_lazy("%(actor)s put the award into a disbursement batch."),
    "finance.batch_confirm": gettext_lazy("%(actor)s confirmed the disbursement batch."),
    "finance.batch_close": gettext_lazy("Every line of the disbursement batch is paid."),
    "finance.batch_remove_line": gettext_lazy("%(actor)s took the award out of a batch."),
    "finance.export": gettext_lazy("%(actor)s exported the disbursement list for the bank."),
    "finance.export_download": gettext_lazy(
        "%(actor)s downloaded the disbursement list prepared for the bank."
    ),
    "review.objection_file_download": gettext_lazy("%(actor)s opened an objection's attachment."),
    "finance.pay": gettext_lazy("%(actor)s recorded the payment: %(amount)s."),
    "finance.payment_failed": gettext_lazy("%(actor)s recorded that the payment failed."),
    "finance.reconcile": gettext_lazy("%(actor)s reconciled the payment with the bank's file."),
    "finance.reconcile_refused": gettext_lazy("The bank's file could not be reconciled."),
    "enterprise.claim": gettext_lazy(
        "%(actor)s registered the enterprise with its documents, for the bureau to verify."
    ),
    "enterprise.dispute": gettext_lazy(
        "%(actor)s disputed who administers an enterprise registered already."
    ),
    "enterprise.resubmit": gettext_lazy("%(actor)s sent new documents for the enterprise."),
    "enterprise.verify": gettext_lazy("%(actor)s verified the enterprise."),
    "enterprise.return": gettext_lazy("%(actor)s returned the enterprise's documents."),
    "enterprise.reject": gettext_lazy("%(actor)s rejected the enterprise's registration."),
    "enterprise.dispute_keep": gettext_lazy(
        "%(actor)s decided a dispute: the current administrator stays."
    ),
    "enterprise.dispute_transfer": gettext_lazy(
        "%(actor)s decided a dispute: the administration passed to the claimant."
    ),
    "enterprise.document_download": gettext_lazy("%(actor)s opened an enterprise document."),
    "dossier.request": gettext_lazy("%(actor)s asked for an audit dossier."),
    "dossier.built": gettext_lazy("The audit dossier asked for by %(actor)s was built."),
    "dossier.download": gettext_lazy("%(actor)s downloaded an audit dossier."),
    "api.key_create": gettext_lazy("%(actor)s created an API key."),
    "api.key_revoke": gettext_lazy("%(actor)s revoked an API key."),
    "api.token_create": gettext_lazy("%(actor)s created a read-only API token."),
    "api.token_revoke": gettext_lazy("%(actor)s revoked their API token."),
    "api.call": gettext_lazy("A system called the API with its key."),
    "api.bank_result_propose": gettext_lazy("A system sent the bank's result through the API."),
    "api.bank_result_confirm": gettext_lazy(
        "%(actor)s confirmed the bank's result sent through the API."
    ),
    "api.bank_result_reject": gettext_lazy(
        "%(actor)s rejected the bank's result sent through the API."
    ),
    "entitlement.confirm": gettext_lazy(
        "%(actor)s confirmed an entitlement found from official statistics (免申即享)."
    ),
    "entitlement.decline": gettext_lazy("%(actor)s declined an entitlement (免申即享)."),
    "entitlement.dispute_source": gettext_lazy("%(actor)s flagged a source record as disputed."),
    "entitlement.source_changed": gettext_lazy(
        "A correction of the official statistics changed a sourced figure of this application."
    ),
    "statistics.import": gettext_lazy("%(actor)s imported official statistics."),
    "statistics.approve": gettext_lazy("%(actor)s approved an import of official statistics."),
    "statistics.reject": gettext_lazy("%(actor)s rejected an import of official statistics."),
}


def action_label(code: str) -> str:
    """A review decision's action code ("recommend", "verify") by its name ("商务初审通过")."""
    return event_label(str(code))


# Short labels of the steps an applicant's timeline shows, beside the workflow's own actions.
_STEP_LABELS = {
    "start": gettext_lazy("Draft started"),
    "evidence_add": gettext_lazy("Document uploaded"),
    "evidence_remove": gettext_lazy("Document removed"),
    "evidence_replace": gettext_lazy("Document replaced"),
    "evidence_withdraw": gettext_lazy("Document withdrawn"),
    "discard": gettext_lazy("Draft deleted"),
    "pay": gettext_lazy("Award paid"),
    "verify": gettext_lazy("Figures verified"),
    "coreview_request": gettext_lazy("Opinions requested from other departments"),
    "coreview_answer": gettext_lazy("Co-review opinion given"),
    "notice_publish": gettext_lazy("Published for public notice"),
    "objection_lodge": gettext_lazy("Objection lodged"),
    "objection_dismiss": gettext_lazy("Objection dismissed"),
    "committed": gettext_lazy("Award committed to a budget"),
    "cancelled": gettext_lazy("Award cancelled"),
    "fixed": gettext_lazy("Award fixed"),
    "ready": gettext_lazy("Approval notice ready"),
    "failed": gettext_lazy("Approval notice delayed"),
    "retry": gettext_lazy("Approval notice retried"),
    "regenerate": gettext_lazy("Approval notice produced anew"),
    "download": gettext_lazy("Downloaded"),
    "export_download": gettext_lazy("Disbursement list downloaded"),
    "objection_file_download": gettext_lazy("Objection attachment opened"),
    "assign": gettext_lazy("Assigned"),
    "assigned_to": gettext_lazy("Assigned"),
    "batch_create": gettext_lazy("Put into a disbursement batch"),
    "batch_confirm": gettext_lazy("Disbursement batch confirmed"),
    "batch_close": gettext_lazy("Disbursement batch paid"),
    "batch_remove_line": gettext_lazy("Taken out of a disbursement batch"),
    "export": gettext_lazy("Disbursement list exported"),
    "payment_failed": gettext_lazy("Payment failed"),
    "reconcile": gettext_lazy("Payment reconciled"),
    "reconcile_refused": gettext_lazy("Reconciliation refused"),
    "password_reset_requested": gettext_lazy("Password reset link asked for"),
    "confirm": gettext_lazy("Entitlement confirmed (免申即享)"),
    "dispute_source": gettext_lazy("Source record disputed"),
}


def event_label(action: str) -> str:
    """A short label of an audited step: "review.take" -> 受理审核."""
    from applications.workflow import Action

    step = action.rsplit(".", 1)[-1]
    if step in _STEP_LABELS:
        return str(_STEP_LABELS[step])
    if step in Action.values:
        return str(Action(step).label)
    return action


def _document_label(code: str) -> str:
    if not code:
        return DASH
    item = _catalogue().evidence_types.get(code, {})
    return str(item.get("label_en" if english_active() else "label_zh", code))


def event_sentence(event) -> str:
    """An audit event as one sentence: "张伟（市商务局）受理了申报。"."""
    actor = event.actor if event.actor_id else None
    who = person(actor, fallback=event.actor_name or _("the system"))
    data = event.data or {}
    amount = next(
        (data[key] for key in ("amount_cny", "amount", "approved_amount_cny") if key in data), None
    )
    values = {
        "actor": who,
        "document": _document_label(str(data.get("document_type", ""))),
        "amount": cny(amount) if amount is not None else DASH,
    }
    template = EVENT_SENTENCES.get(event.action)
    if template is None:
        return pgettext("event without a sentence", "%(actor)s: %(action)s") % {
            "actor": who,
            "action": event.action,
        }
    return str(template) % values
