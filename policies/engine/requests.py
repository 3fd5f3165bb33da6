"""Parsing one request of the `assess` command: JSON objects into (measure, facts, context)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .assess import Source, choose_version, parse_facts
from .context import Context, PriorAward
from .errors import AssessInputError, UnknownMeasure
from .numbers import BadNumber, parse_decimal, parse_int
from .versions import PolicyVersions

_MAX_AWARD = Decimal("1000000000000")


def parse_request(catalogue: Source, obj: Any, today: date) -> tuple[str, dict[str, Any], Context]:
    """Validate one input object ``{"measure", "facts", "context": {"on_date", "policy",
    "prior_awards"}}`` against the version that will assess it (see `choose_version`).

    Returns (measure code, typed facts, context); the context names the chosen version. Raises
    `AssessInputError` (or its subclasses `UnknownMeasure`, `FactError`) with a message naming
    what is wrong. Parse JSON with ``parse_float=Decimal`` so that amounts keep their decimal text.
    """
    if not isinstance(obj, Mapping):
        raise AssessInputError(
            "each input must be an object with 'measure' and 'facts'",
            "每条输入须为包含 measure 和 facts 的对象",
        )
    unknown = set(obj) - {"measure", "facts", "context"}
    if unknown:
        raise AssessInputError(
            f"unknown keys {sorted(map(str, unknown))}", f"未知的键 {sorted(map(str, unknown))}"
        )
    code = obj.get("measure")
    if not isinstance(code, str):
        raise AssessInputError(
            "'measure' must be a measure code such as \"M05\"", "measure 须为措施代码"
        )
    context = _parse_context(catalogue, code, obj.get("context"), today)
    version, _choice = choose_version(catalogue, context)
    measure = version.measures.get(code)
    if measure is None:
        raise UnknownMeasure(code)
    raw_facts = obj.get("facts")
    if not isinstance(raw_facts, Mapping):
        raise AssessInputError("'facts' must be an object", "facts 须为对象", measure=code)
    facts = parse_facts(version, measure, raw_facts)
    return code, facts, context


def _parse_context(catalogue: Source, code: str, raw: Any, today: date) -> Context:
    if raw is None:
        return Context(on_date=today)
    if not isinstance(raw, Mapping):
        raise AssessInputError("'context' must be an object", "context 须为对象", measure=code)
    unknown = set(raw) - {"on_date", "prior_awards", "policy"}
    if unknown:
        raise AssessInputError(
            f"context: unknown keys {sorted(map(str, unknown))}",
            f"context：未知的键 {sorted(map(str, unknown))}",
            measure=code,
        )
    on_date = _parse_date(raw.get("on_date"), today, code)
    policy = raw.get("policy")
    versions = _versions_of(catalogue)
    if policy is not None and policy not in versions:
        raise AssessInputError(
            f"context.policy {policy!r} is not a loaded policy version ({', '.join(versions)})",
            f"context.policy {policy!r} 不是已载入的政策版本（{'、'.join(versions)}）",
            measure=code,
        )
    awards_raw = raw.get("prior_awards")
    if awards_raw is None:
        awards_raw = []
    if not isinstance(awards_raw, list):
        raise AssessInputError(
            "context.prior_awards must be a list", "context.prior_awards 须为列表", measure=code
        )
    awards = tuple(
        _parse_award(catalogue, code, index, item) for index, item in enumerate(awards_raw)
    )
    return Context(on_date=on_date, prior_awards=awards, policy=policy)


def _versions_of(catalogue: Source) -> list[str]:
    if isinstance(catalogue, PolicyVersions):
        return [c.policy_code for c in catalogue]
    return [catalogue.policy_code]


def _parse_date(raw: Any, today: date, code: str) -> date:
    if raw is None:
        return today
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str) and len(raw) == 10:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise AssessInputError(
        f"context.on_date {raw!r} is not an ISO date (YYYY-MM-DD)",
        f"context.on_date {raw!r} 不是 YYYY-MM-DD 格式的日期",
        measure=code,
    )


def _parse_award(catalogue: Source, code: str, index: int, item: Any) -> PriorAward:
    where = f"context.prior_awards[{index}]"
    if not isinstance(item, Mapping):
        raise AssessInputError(f"{where} must be an object", f"{where} 须为对象", measure=code)
    allowed = {
        "measure",
        "year",
        "amount_cny",
        "warehouse_id",
        "store_id",
        "reference",
        "components",
        "component_amounts",
        "policy",
    }
    unknown = set(item) - allowed
    if unknown:
        raise AssessInputError(
            f"{where}: unknown keys {sorted(map(str, unknown))}",
            f"{where}：未知的键 {sorted(map(str, unknown))}",
            measure=code,
        )
    award_measure = item.get("measure")
    if not isinstance(award_measure, str) or award_measure not in catalogue.known_award_codes:
        raise AssessInputError(
            f"{where}.measure {award_measure!r} is neither a measure nor a linked policy",
            f"{where}.measure {award_measure!r} 既不是措施也不是已关联的政策",
            measure=code,
        )
    try:
        year = parse_int(item.get("year"), minimum=Decimal(2000), maximum=Decimal(2100))
        amount = parse_decimal(item.get("amount_cny"), places=2, maximum=_MAX_AWARD)
    except BadNumber as error:
        field = (
            "year" if "year" not in item or not _is_valid_year(item.get("year")) else "amount_cny"
        )
        raise AssessInputError(
            f"{where}.{field}: {error.message_en}",
            f"{where}.{field}：{error.message_zh}",
            measure=code,
        ) from None
    texts: dict[str, str | None] = {}
    for key in ("warehouse_id", "store_id", "reference"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise AssessInputError(
                f"{where}.{key} must be a text or null",
                f"{where}.{key} 须为文本或 null",
                measure=code,
            )
        texts[key] = value.strip() if isinstance(value, str) and value.strip() else None
    components = item.get("components")
    if components is not None:
        if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
            raise AssessInputError(
                f"{where}.components must be a list of names",
                f"{where}.components 须为名称列表",
                measure=code,
            )
        components = tuple(components)
    component_amounts = _parse_component_amounts(item.get("component_amounts"), where, code)
    policy = item.get("policy")
    if policy is not None and policy not in _versions_of(catalogue):
        raise AssessInputError(
            f"{where}.policy {policy!r} is not a loaded policy version",
            f"{where}.policy {policy!r} 不是已载入的政策版本",
            measure=code,
        )
    return PriorAward(
        measure=award_measure,
        year=year,
        amount_cny=amount,
        warehouse_id=texts["warehouse_id"],
        store_id=texts["store_id"],
        reference=texts["reference"],
        components=components,
        component_amounts=component_amounts,
        policy=policy,
    )


def _parse_component_amounts(raw: Any, where: str, code: str) -> dict[str, Decimal] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise AssessInputError(
            f"{where}.component_amounts must be an object of name to amount",
            f"{where}.component_amounts 须为“名称：金额”的对象",
            measure=code,
        )
    amounts: dict[str, Decimal] = {}
    for name, value in raw.items():
        try:
            amounts[str(name)] = parse_decimal(value, places=2, maximum=_MAX_AWARD)
        except BadNumber as error:
            raise AssessInputError(
                f"{where}.component_amounts.{name}: {error.message_en}",
                f"{where}.component_amounts.{name}：{error.message_zh}",
                measure=code,
            ) from None
    return amounts


def _is_valid_year(raw: Any) -> bool:
    try:
        parse_int(raw, minimum=Decimal(2000), maximum=Decimal(2100))
    except BadNumber:
        return False
    return True
