"""What an interpretation does is data an administrator changes from a date onwards, validated,
with its text restated so that the text never silently differs from what the engine does."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hengyang_cbec.accounts.roles import Role
from policies.changes import add_interpretation_effect
from policies.engine import CatalogueError, PriorAward
from policies.models import Interpretation, InterpretationEffect
from policies.services import assess_measure
from tests.factories import make_user

pytestmark = pytest.mark.django_db

M05 = {
    "entity_type": "enterprise",
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "has_cbec_performance": True,
    "in_customs_cbec_statistics": True,
    "year": 2026,
    "cbec_export_volume_usd": "600000",
}
EARLIER = [PriorAward("M05", 2025, Decimal("20000.00"))]
NEW_TEXT_ZH = "M05 自 2026-12-01 起不再为一次性奖励；其他措施不变。"
NEW_TEXT_EN = "From 2026-12-01 M05 is no longer one-time; the other measures are unchanged."


def i3() -> Interpretation:
    return Interpretation.objects.get(policy__code="HY-CBEC-2025", code="I-3")


def start() -> date:
    return timezone.localdate() + timedelta(days=1)


def test_a_change_applies_from_its_date_only(catalogue, django_capture_on_commit_callbacks):
    day = start()
    with django_capture_on_commit_callbacks(execute=True):
        add_interpretation_effect(
            interpretation=i3(),
            setting="one_time",
            measure="M05",
            value=False,
            effective_from=day,
            text_zh=NEW_TEXT_ZH,
            text_en=NEW_TEXT_EN,
        )
    facts = {**M05, "year": day.year}
    before = assess_measure("M05", facts, on_date=day - timedelta(days=1), prior_awards=EARLIER)
    after = assess_measure("M05", facts, on_date=day, prior_awards=EARLIER)
    assert not before.eligible and "I-3" in {r.interpretation for r in before.reasons}
    assert after.eligible and after.amount_cny == Decimal("100000.00")
    assert before.rules_version != after.rules_version


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text_en": None}, "restate"),  # the text as it was: refused
        ({"setting": "annual_cap", "value": True}, "does not decide"),
        ({"measure": "M06"}, "does not apply to M06"),
        ({"value": "no"}, "must be a bool"),
        ({"effective_from": date(2025, 1, 1)}, "future date"),
    ],
)
def test_a_change_is_validated_like_the_files(catalogue, change, message):
    interpretation = i3()
    arguments = {
        "interpretation": interpretation,
        "setting": "one_time",
        "measure": "M05",
        "value": False,
        "effective_from": start(),
        "text_zh": NEW_TEXT_ZH,
        "text_en": NEW_TEXT_EN,
    }
    arguments.update(change)
    if change.get("text_en", "") is None:
        arguments["text_en"] = interpretation.text_en
        arguments["text_zh"] = interpretation.text_zh
    with pytest.raises(CatalogueError, match=message):
        add_interpretation_effect(**arguments)
    assert not InterpretationEffect.objects.exists()


def test_a_policy_administrator_changes_an_effect_in_the_admin_and_cannot_edit_a_text_alone(
    client, catalogue, password, django_capture_on_commit_callbacks
):
    user = make_user(Role.POLICY_ADMINISTRATOR, username="policy", is_staff=True)
    client.login(username=user.username, password=password)
    interpretation = i3()
    page = client.get(f"/admin/policies/interpretation/{interpretation.pk}/change/")
    assert page.status_code == 200
    assert 'name="text_en"' not in page.content.decode()  # read-only
    day = start()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/policies/interpretationeffect/add/",
            {
                "interpretation": interpretation.pk,
                "setting": "one_time",
                "measure": "M05",
                "value_text": "no",
                "effective_from": day.isoformat(),
                "text_zh": NEW_TEXT_ZH,
                "text_en": NEW_TEXT_EN,
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    effect = InterpretationEffect.objects.get()
    assert effect.value is False and effect.created_by == user
    listed = client.get(f"/admin/policies/interpretation/{interpretation.pk}/change/").content
    assert NEW_TEXT_ZH in listed.decode() and 'name="effects-0-text_zh"' not in listed.decode()
    refused = client.post(
        "/admin/policies/interpretationeffect/add/",
        {
            "interpretation": interpretation.pk,
            "setting": "annual_cap",
            "measure": "M05",
            "value_text": "yes",
            "effective_from": (day + timedelta(days=1)).isoformat(),
            "text_zh": "改",
            "text_en": "changed",
        },
    )
    assert refused.status_code == 200 and "does not decide" in refused.content.decode()
    assert (
        client.get(f"/admin/policies/interpretationeffect/{effect.pk}/delete/").status_code == 403
    )
    public = client.get("/interpretations/").content.decode()
    assert "data-changes" in public and f"自 {day:%Y-%m-%d} 起" in public
