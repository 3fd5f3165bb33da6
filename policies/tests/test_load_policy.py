"""`manage.py load_policy`: the files seed the database, idempotently, and bad data is refused."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from policies.changes import add_parameter_value
from policies.engine import CatalogueError
from policies.models import Measure, Parameter, ParameterValue, Policy
from policies.services import (
    CATALOGUE_DIR,
    assess_measure,
    catalogue_data_from_db,
)
from tests.facts import GENERAL_FACTS as GENERAL

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Policy.objects.count(),
        Measure.objects.count(),
        Parameter.objects.count(),
        ParameterValue.objects.count(),
    )


def edited_copy(tmp_path: Path, file_name: str, edit) -> Path:
    directory = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, directory)
    path = directory / "HY-CBEC-2025" / file_name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return directory


def test_loading_twice_changes_nothing_the_second_time():
    call_command("load_policy", verbosity=0)
    first = counts()
    call_command("load_policy", verbosity=0)
    assert counts() == first
    assert first[1] == 18  # M01–M16 with M09A/B and M10A/B


def test_the_database_gives_back_the_catalogue_the_files_hold(catalogue):
    from policies.services import file_versions

    from_files = file_versions().get("HY-CBEC-2025")
    assert set(catalogue.measures) == set(from_files.measures)
    assert set(catalogue.parameters) == set(from_files.parameters)
    result_db = assess_measure("M05", {**GENERAL, "cbec_export_volume_usd": "600000"})
    result_files = assess_measure(
        "M05", {**GENERAL, "cbec_export_volume_usd": "600000"}, catalogue=from_files
    )
    assert result_db.to_dict() == result_files.to_dict()


def _first_parameter(data):
    return data["parameters"][0]


def test_a_parameter_without_a_clause_is_refused_and_nothing_is_loaded(tmp_path):
    directory = edited_copy(
        tmp_path, "parameters.yaml", lambda data: _first_parameter(data).pop("clause")
    )
    before = counts()
    with pytest.raises(CommandError, match="clause"):
        call_command("load_policy", directory=directory, verbosity=0)
    assert counts() == before


def test_overlapping_dates_of_one_parameter_are_refused(tmp_path):
    def overlap(data):
        values = _first_parameter(data)["values"]
        values.append({"value": "1", "effective_from": "2026-01-01", "effective_to": None})

    directory = edited_copy(tmp_path, "parameters.yaml", overlap)
    before = counts()
    with pytest.raises(CommandError, match="overlap"):
        call_command("load_policy", directory=directory, verbosity=0)
    assert counts() == before


def test_an_unknown_measure_in_an_overlap_group_is_refused(tmp_path):
    def unknown(data):
        data["overlap_groups"][0]["measures"].append("M99")

    directory = edited_copy(tmp_path, "policy.yaml", unknown)
    with pytest.raises(CommandError, match="M99"):
        call_command("load_policy", directory=directory, verbosity=0)


def test_files_that_change_a_stored_value_are_refused(tmp_path):
    call_command("load_policy", verbosity=0)

    def change(data):
        for item in data["parameters"]:
            if item["key"] == "M05.tier_mid.amount_cny":
                item["values"][0]["value"] = "120000"

    directory = edited_copy(tmp_path, "parameters.yaml", change)
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("load_policy", directory=directory, verbosity=0)
    stored = ParameterValue.objects.get(parameter__key="M05.tier_mid.amount_cny")
    assert stored.text == "100000"


def test_a_later_value_added_by_an_administrator_applies_from_its_date_only(
    catalogue, django_capture_on_commit_callbacks
):
    parameter = Parameter.objects.get(key="M05.tier_mid.amount_cny")
    facts = {**GENERAL, "cbec_export_volume_usd": "600000"}
    before = assess_measure("M05", facts, on_date=date(2026, 6, 30))
    with django_capture_on_commit_callbacks(execute=True):
        add_parameter_value(
            parameter=parameter, value_text="120000", effective_from=date(2026, 7, 1)
        )
    old = assess_measure("M05", facts, on_date=date(2026, 6, 30))
    new = assess_measure("M05", facts, on_date=date(2026, 7, 1))
    assert old.amount_cny == before.amount_cny == 100000
    assert new.amount_cny == 120000
    assert old.rules_version == before.rules_version != new.rules_version
    values = list(parameter.values.order_by("effective_from"))
    assert [v.text for v in values] == ["100000", "120000"]
    assert values[0].effective_to == date(2026, 6, 30)


def test_a_value_that_does_not_take_effect_later_is_refused(catalogue):
    parameter = Parameter.objects.get(key="M05.tier_mid.amount_cny")
    with pytest.raises(CatalogueError, match="after"):
        add_parameter_value(parameter=parameter, value_text="1", effective_from=date(2025, 1, 1))
    with pytest.raises(CatalogueError, match="not a number"):
        add_parameter_value(parameter=parameter, value_text="lots", effective_from=date(2026, 1, 1))
    assert parameter.values.count() == 1


def test_a_policy_administrator_adds_a_value_in_the_admin(client, catalogue, password):
    from hengyang_cbec.accounts.roles import Role
    from tests.factories import make_user

    admin_user = make_user(Role.POLICY_ADMINISTRATOR, username="policy", is_staff=True)
    client.login(username=admin_user.username, password=password)
    parameter = Parameter.objects.get(key="M16.rate")
    refused = client.post(
        "/admin/policies/parametervalue/add/",
        {"parameter": parameter.pk, "text": "0.2", "effective_from": "2025-01-01"},
    )
    assert refused.status_code == 200
    assert "after" in refused.content.decode()
    response = client.post(
        "/admin/policies/parametervalue/add/",
        {"parameter": parameter.pk, "text": "0.12", "effective_from": "2027-01-01"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = parameter.values.get(effective_from=date(2027, 1, 1))
    assert added.created_by == admin_user
    # Values are never edited or deleted, not even by their author.
    assert client.get(f"/admin/policies/parametervalue/{added.pk}/delete/").status_code == 403
    assert any(
        v["value"] == "0.12"
        for p in catalogue_data_from_db()["parameters"]
        if p["key"] == "M16.rate"
        for v in p["values"]
    )
