"""The rules reference in docs/ is generated from the catalogue and kept up to date."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command

from .renewal import RENEWAL, write_renewal_tree

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "rules-reference.md"


def generate(*args: str) -> str:
    out = StringIO()
    call_command("rules_reference", "--output", "-", *args, stdout=out)
    return out.getvalue()


def test_the_committed_rules_reference_is_what_the_catalogue_generates():
    assert COMMITTED.read_text(encoding="utf-8") == generate(), (
        "docs/rules-reference.md is out of date: run `python manage.py rules_reference`"
    )


def test_the_reference_names_every_measure_parameter_and_interpretation_with_dates_and_clauses():
    from policies.services import file_versions

    text = generate()
    catalogue = file_versions().get("HY-CBEC-2025")
    for code, measure in catalogue.measures.items():
        assert f"#### {code} " in text and f"({measure.clause})" in text
    for key, parameter in catalogue.parameters.items():
        assert f"| `{key}` |" in text
        for value in parameter.values:
            assert f"| {value.effective_from} |" in text
    for code in catalogue.interpretations:
        assert f"#### {code} " in text
    assert "| `M12.lpr_one_year` | rate | II(6)2 | 3.1% | 2024-10-21 | 2025-05-19 |" in text


def test_every_version_gets_its_part(tmp_path):
    directory = write_renewal_tree(tmp_path / "catalogue")
    text = generate("--directory", str(directory))
    assert text.index(f"## {RENEWAL}") < text.index("## HY-CBEC-2025")
    renewal = text[text.index(f"## {RENEWAL}") : text.index("## HY-CBEC-2025")]
    assert "#### M10A" not in renewal
    assert "| `M16.rate` | rate | II(7)4 | 15% | 2027-04-01 | open |" in renewal
