"""Public: `POST /api/v1/assess`, the same input and output as `manage.py assess`.

The body is read as the command reads its file (policies.assessing): amounts as decimals, never
floats. Bad input is HTTP 400 naming the item, the measure and the fact; the English message is
the command's own."""

from typing import Literal

from django.http import JsonResponse
from ninja import Query, Router, Schema

from policies.assessing import AssessRequestError, assess_payload, parse_json

from ..access import limited
from ..errors import ApiError

router = Router(tags=["assess · 测算"])

_REQUEST = {
    "type": "object",
    "required": ["measure", "facts"],
    "properties": {
        "measure": {"type": "string", "example": "M05"},
        "facts": {
            "type": "object",
            "additionalProperties": True,
            "description": "事实：名称见 /policies/{code}/facts；金额写成字符串。· Facts by name "
            "(see /policies/{code}/facts); write amounts as strings.",
        },
        "context": {
            "type": "object",
            "properties": {
                "on_date": {"type": "string", "format": "date"},
                "policy": {"type": "string", "example": "HY-CBEC-2025"},
                "prior_awards": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}
_EXAMPLE = {
    "measure": "M05",
    "facts": {
        "entity_type": "enterprise",
        "registered_in_hengyang": True,
        "pays_taxes": True,
        "independent_legal_person": True,
        "has_cbec_performance": True,
        "in_customs_cbec_statistics": True,
        "year": 2026,
        "cbec_export_volume_usd": "600000",
    },
    "context": {"on_date": "2026-06-01"},
}
_RESULT = {
    "type": "object",
    "properties": {
        "measure": {"type": "string"},
        "policy": {"type": "string"},
        "eligible": {"type": "boolean"},
        "amount_cny": {"type": "string", "example": "100000.00"},
        "cap_cny": {"type": "string", "example": "100000.00"},
        "components": {"type": "array", "items": {"type": "object"}},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "trace": {"type": "array", "items": {"type": "object"}},
        "rules_version": {"type": "string"},
    },
}


class AssessError(Schema):
    code: str
    detail: str
    detail_en: str
    measure: str | None = None
    fact: str | None = None
    item: int | None = None


class Language(Schema):
    language: Literal["zh-hans", "en"] = "zh-hans"


@router.post(
    "/assess",
    summary="测算 · Assess",
    description="与 `manage.py assess` 相同：一个对象或一组对象 {measure, facts, context}，返回"
    "引擎的结果（金额为两位小数的字符串）与逐步依据。输入有误时返回 HTTP 400，指明措施和事实。\n\n"
    "The same as `manage.py assess`: one object or a list {measure, facts, context}; answers the "
    "engine's result (amounts as strings with two decimals) and its trace. Bad input is HTTP 400 "
    "naming the measure and the fact.",
    response={400: AssessError, 429: AssessError},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [_REQUEST, {"type": "array", "items": _REQUEST}]},
                    "example": _EXAMPLE,
                }
            },
        },
        "responses": {
            "200": {
                "description": "结果 · Result",
                "content": {
                    "application/json": {
                        "schema": {"oneOf": [_RESULT, {"type": "array", "items": _RESULT}]}
                    }
                },
            }
        },
    },
)
@limited("api_assess")
def assess(request, query: Query[Language]):
    try:
        output = assess_payload(parse_json(request.body), language=query.language)
    except AssessRequestError as exc:
        raise ApiError(
            400,
            "bad_input",
            (exc.message_zh, exc.message_en),
            measure=exc.measure,
            fact=exc.fact,
            item=exc.item,
        ) from None
    return JsonResponse(output, safe=False, json_dumps_params={"ensure_ascii": False})
