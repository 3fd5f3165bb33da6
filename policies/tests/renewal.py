"""A sample renewal of the measures, for tests only: "HY-CBEC-2027".

Never loaded in production: it is built from the shipped 2025 version with one rate changed
(M16: 15% instead of 10% from 2027-04-01), one measure dropped (M10A) and its own validity,
2027-04-01 to 2029-03-31, which leaves a week between the two versions in which nothing can be
filed. `one_time_counts_earlier` makes awards under 2025 count for I-3 under 2027 (data).
"""

from __future__ import annotations

import copy
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from policies.engine import load_catalogue_tree

CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "catalogue"
RENEWAL = "HY-CBEC-2027"
RENEWAL_FROM = date(2027, 4, 1)
RENEWAL_TO = date(2029, 3, 31)
DROPPED = "M10A"
M16_RATE = "0.15"


def renewal_data(*, one_time_counts_earlier: bool = False) -> dict[str, Any]:
    """The 2027 version's catalogue dict (without the shared places)."""
    base = next(
        v for v in load_catalogue_tree(CATALOGUE_DIR) if v["policy"]["code"] == "HY-CBEC-2025"
    )
    data = copy.deepcopy(base)
    data.pop("places", None)
    policy = data["policy"]
    policy.update(
        code=RENEWAL,
        published_on=RENEWAL_FROM,
        valid_from=RENEWAL_FROM,
        valid_to=RENEWAL_TO,
        first_performance_year=RENEWAL_FROM.year,
        one_time_counts_policies=["HY-CBEC-2025"] if one_time_counts_earlier else [],
    )
    data["measures"] = [m for m in data["measures"] if m["code"] != DROPPED]
    data["parameters"] = [p for p in data["parameters"] if not p["key"].startswith(f"{DROPPED}.")]
    for parameter in data["parameters"]:
        if parameter["key"] == "M16.rate":
            parameter["values"] = [
                {"value": M16_RATE, "effective_from": RENEWAL_FROM, "effective_to": None}
            ]
    for item in data["interpretations"]:
        item["applies_to"] = [c for c in item.get("applies_to", []) if c != DROPPED]
        if item["code"] == "I-5":
            item["title_zh"] = "有效期为 2027-04-01 至 2029-03-31（含）"
            item["title_en"] = "In force from 2027-04-01 to 2029-03-31 inclusive"
            item["text_zh"] = "本版本自 2027-04-01 起施行，至 2029-03-31（含）。"
            item["text_en"] = "This version is in force from 2027-04-01 to 2029-03-31 inclusive."
        if item["code"] == "I-8":
            item["text_en"] = item["text_en"].replace("(2025)", "(2027)")
            item["text_zh"] = item["text_zh"].replace("（2025 年）", "（2027 年）")
    return data


def write_renewal_tree(target: Path, *, one_time_counts_earlier: bool = False) -> Path:
    """A catalogue directory with the shipped versions plus the renewal, as `load_policy
    --directory` reads it."""
    shutil.copytree(CATALOGUE_DIR, target)
    folder = target / RENEWAL
    folder.mkdir()
    data = renewal_data(one_time_counts_earlier=one_time_counts_earlier)
    (folder / "catalogue.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return target


def load_renewal(tmp_path: Path, *, one_time_counts_earlier: bool = False) -> None:
    """Load the shipped versions plus the renewal into the (test) database, as the command does,
    and make every process read them at once."""
    from django.core.management import call_command

    from policies.services import bump_catalogue_version

    directory = write_renewal_tree(
        tmp_path / "catalogue", one_time_counts_earlier=one_time_counts_earlier
    )
    call_command("load_policy", directory=directory, verbosity=0)
    bump_catalogue_version()
