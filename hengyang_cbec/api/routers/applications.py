"""For systems with the scope `read_statuses`: where an application stands, by its reference or
by the enterprise's unified social credit code. Drafts are not shown (they have no reference)."""

from datetime import date, datetime

from django.utils import translation
from ninja import Router, Schema

from applications.models import Application
from applications.workflow import State

from ..access import KeyAuth
from ..errors import ApiError
from ..models import Scope

router = Router(tags=["applications · 申报状态"], auth=KeyAuth(Scope.READ_STATUSES))
mine = Router(tags=["my applications · 本企业申报"], auth=KeyAuth(Scope.READ_OWN_APPLICATIONS))


class ApplicationStatusOut(Schema):
    reference: str | None
    enterprise_name: str
    uscc: str
    measure_code: str
    policy: str | None
    year: int
    state: str
    state_zh: str
    state_en: str
    submitted_at: datetime | None
    reference_date: date | None
    updated_at: datetime
    approved_amount_cny: str | None


def _status(application: Application) -> dict:
    state = State(application.state)
    with translation.override("zh-hans"):
        state_zh = str(state.label)
    with translation.override("en"):
        state_en = str(state.label)
    amount = application.approved_amount_cny
    return {
        "reference": application.reference,
        "enterprise_name": application.enterprise.name,
        "uscc": application.enterprise.uscc,
        "measure_code": application.measure.code,
        "policy": application.policy.code if application.policy_id else None,
        "year": application.year,
        "state": state.value,
        "state_zh": state_zh,
        "state_en": state_en,
        "submitted_at": application.submitted_at,
        "reference_date": application.reference_date,
        "updated_at": application.updated_at,
        "approved_amount_cny": None if amount is None else f"{amount:.2f}",
    }


def _submitted():
    return (
        Application.objects.exclude(reference__isnull=True)
        .exclude(state=State.DRAFT)
        .select_related("enterprise", "measure", "policy")
        .order_by("-submitted_at", "-id")
    )


_SCOPE_NOTE = "\n\n需要范围 · Scope: `read_statuses`."


@router.get(
    "/applications/{reference}",
    response=ApplicationStatusOut,
    summary="按申报编号查询状态 · Status by reference",
    description="一份已提交申报的当前状态（中英文名称）与核定金额（两位小数的字符串）。\n\n"
    "Where a submitted application stands (named in Chinese and English) and its approved "
    "amount (a string with two decimals)." + _SCOPE_NOTE,
)
def status_by_reference(request, reference: str):
    application = _submitted().filter(reference=reference.strip()[:30]).first()
    if application is None:
        raise ApiError(
            404,
            "unknown_application",
            ("没有这个编号的申报。", "No application has this reference."),
        )
    return _status(application)


@router.get(
    "/applications",
    response=list[ApplicationStatusOut],
    summary="按统一社会信用代码查询 · Statuses by credit code",
    description="一家企业全部已提交申报的状态，最新在前。\n\n"
    "Every submitted application of one enterprise, newest first." + _SCOPE_NOTE,
)
def statuses_by_uscc(request, uscc: str):
    code = uscc.strip().upper()
    if len(code) != 18 or not code.isalnum():
        raise ApiError(
            400,
            "bad_uscc",
            ("统一社会信用代码须为 18 位。", "A unified social credit code has 18 characters."),
        )
    return [_status(a) for a in _submitted().filter(enterprise__uscc=code)[:500]]


@mine.get(
    "/my/applications",
    response=list[ApplicationStatusOut],
    summary="本企业的申报（申报人自己的令牌）· My enterprise's applications (an applicant's token)",
    description="申报人在“我的接口令牌”页面自行创建的只读令牌，可查询本企业全部申报及其状态，"
    "草稿没有申报编号。持有人离开企业或账户停用后，令牌即失效。\n\n"
    "With the read-only token an applicant creates on their own token page: every application "
    "of their enterprise and its state (drafts have no reference). The token stops working when "
    "its holder leaves the enterprise or the account is disabled."
    "\n\n需要范围 · Scope: `read_own_applications`.",
)
def my_applications(request):
    from applications.services import active_membership

    membership = active_membership(request.auth.owner)
    return [
        _status(a)
        for a in Application.objects.filter(enterprise_id=membership.enterprise_id)
        .select_related("enterprise", "measure", "policy")
        .order_by("-created_at", "-id")[:500]
    ]
