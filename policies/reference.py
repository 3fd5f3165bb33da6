"""The rules reference: a Markdown document generated from the catalogue, one part per version.

`manage.py rules_reference` writes it to docs/rules-reference.md; a test keeps the committed
file identical to what the catalogue generates, so the document never drifts from the rules.
"""

from __future__ import annotations

from .engine import Catalogue, PolicyVersions
from .views import format_parameter

_KINDS = {
    "computed": "computed amount",
    "discretionary": "discretionary (no amount; cap = expenses)",
    "external": "settled by another authority",
}


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def rules_reference(versions: PolicyVersions) -> str:
    lines = [
        "# Rules reference",
        "",
        "Generated from the policy catalogue (`policies/catalogue/`) by "
        "`python manage.py rules_reference`; do not edit by hand. The policy text the catalogue "
        "implements is in `policies/source/`.",
        "",
        "Versions (newest first):",
        "",
    ]
    for catalogue in reversed(versions.ordered):
        lines.append(
            f"- [{catalogue.policy_code}](#{catalogue.policy_code.lower()}): "
            f"in force {catalogue.valid_from} to {catalogue.valid_to} inclusive"
        )
    for catalogue in reversed(versions.ordered):
        lines += ["", *_version(catalogue)]
    return "\n".join(lines) + "\n"


def _version(cat: Catalogue) -> list[str]:
    policy = cat.policy
    out = [
        f"## {cat.policy_code}",
        "",
        f"**{_cell(policy['title_en'])}** ({_cell(policy['title_zh'])}), issued by "
        f"{_cell(policy['issuer_en'])} on {cat.published_on}.",
        "",
        f"- Validity: {cat.valid_from} to {cat.valid_to} inclusive (clause {cat.validity_clause}"
        f"{', ' + cat.validity_interpretation if cat.validity_interpretation else ''}).",
        f"- Performance years: from {cat.first_performance_year} to the reference date's year"
        f"{' (' + cat.performance_year_interpretation + ')' if cat.performance_year_interpretation else ''}.",  # noqa: E501
        "- One-time awards (I-3) counted: " + ", ".join(sorted(cat.one_time_counts_policies)) + ".",
        "- General conditions (clause "
        + cat.general_clause
        + "): "
        + ", ".join(f"`{name}`" for name in cat.general_must_be_true)
        + ".",
        "",
        "### Measures",
        "",
        "| code | clause | measure | kind | one-time | annual cap | admitted |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in cat.measures.values():
        one_time = "yes" if m.one_time else (", ".join(m.one_time_components) or "no")
        out.append(
            f"| {m.code} | {m.clause} | {_cell(m.title_en)} | {_KINDS[m.kind]} | {one_time} | "
            f"{'yes' if m.annual_cap else 'no'} | {', '.join(m.entity_types)} |"
        )
    for m in cat.measures.values():
        out += ["", f"#### {m.code} {_cell(m.title_en)} ({m.clause})", "", _cell(m.conditions_en)]
        extra = []
        if m.waived_general_facts:
            extra.append("waives " + ", ".join(f"`{f}`" for f in m.waived_general_facts))
        if m.scope_fact:
            extra.append(f"counts per `{m.scope_fact}`")
        if m.annual_cap:
            extra.append(f"annual cap read as {m.annual_cap_interpretation}")
        for component, key in m.component_annual_caps.items():
            extra.append(
                f"`{component}` capped per year by `{key}` ({m.component_cap_interpretation})"
            )
        if m.same_year_notice:
            extra.append(f"same-year awards named ({m.same_year_notice})")
        if m.overlap_groups:
            extra.append("overlap groups: " + ", ".join(g.code for g in m.overlap_groups))
        if extra:
            out += ["", "Rules across applications: " + "; ".join(extra) + "."]
        out += ["", "Facts:", ""]
        for fact, required in m.fact_defs:
            if fact.scope == "general":
                continue
            notes = [fact.kind, "required" if required else "optional"]
            if fact.minimum is not None and fact.kind != "bool":
                notes.append(f"min {fact.minimum}")
            if fact.maximum is not None:
                notes.append(f"max {fact.maximum}")
            if fact.choices:
                notes.append("one of " + ", ".join(fact.choices))
            if fact.reviewer_only:
                notes.append("set by a reviewer only")
            if fact.answer_required:
                notes.append("asked as yes or no on the application form")
            out.append(f"- `{fact.name}` ({'; '.join(notes)}): {_cell(fact.label_en)}")
        parameters = [p for k, p in cat.parameters.items() if k.startswith(f"{m.code}.")]
        if parameters:
            out += [
                "",
                "| parameter | kind | clause | value | from | to |",
                "|---|---|---|---|---|---|",
            ]
            for p in parameters:
                kind = p.kind + (f" ({p.comparison})" if p.comparison else "")
                if p.interpretation:
                    kind += f", {p.interpretation}"
                for v in p.values:
                    out.append(
                        f"| `{p.key}` | {kind} | {p.clause} | "
                        f"{format_parameter(v.value, p.unit, True)} | {v.effective_from} | "
                        f"{v.effective_to or 'open'} |"
                    )
    out += ["", "### Overlap groups", ""]
    for g in cat.overlap_groups.values():
        members = ", ".join(g.measures + g.external_policies)
        out.append(f"- `{g.code}` ({g.clause}, {g.interpretation}): {members}")
    out += ["", "### Interpretations", ""]
    for i in cat.interpretations.values():
        applies = f" Measures: {', '.join(i.applies_to)}." if i.applies_to else ""
        out += [
            f"#### {i.code} {_cell(i.title_en)}",
            "",
            f"Clauses read: {', '.join(i.clauses)}.{applies}",
            "",
            _cell(i.text_en),
            "",
            _cell(i.text_zh),
            "",
        ]
    while out and out[-1] == "":
        out.pop()
    return out
