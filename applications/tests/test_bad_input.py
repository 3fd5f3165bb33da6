"""Malformed input on the applicant's pages gets a 400 or is cleaned, never a 500 (SECURITY 31)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.models import Application

from .factories import draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_member(client, member, password):
    client.login(username=member.username, password=password)
    return client


@pytest.mark.parametrize("value", ["abc", "1e3", "٣", "-1", "99999999999999999999999", "\x00", ""])
def test_a_malformed_membership_id_on_the_members_page_is_a_translated_400(client_member, value):
    response = client_member.post(
        reverse("applications:members"), {"membership": value, "decision": "accept"}
    )
    assert response.status_code == 400
    assert "无法识别该请求" in response.content.decode()


def test_a_nul_byte_in_autosave_is_dropped_and_the_rest_kept(client_member, enterprise, member):
    application = draft(enterprise, member)
    response = client_member.post(
        reverse("applications:autosave", args=[application.pk]),
        {"cbec_export_volume_usd": "60\x00万\x07"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    application = Application.objects.get(pk=application.pk)
    assert application.draft_facts["cbec_export_volume_usd"] == "60万"
