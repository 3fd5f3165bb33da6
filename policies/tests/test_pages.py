"""The public policy pages and the calculator, without JavaScript and with htmx."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ALL_CODES = [
    "M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08", "M09A", "M09B",
    "M10A", "M10B", "M11", "M12", "M13", "M14", "M15", "M16",
]  # fmt: skip
M05_QUERY = {
    "calculate": "1",
    "entity_type": "enterprise",
    "registered_in_hengyang": "on",
    "pays_taxes": "on",
    "independent_legal_person": "on",
    "has_cbec_performance": "on",
    "in_customs_cbec_statistics": "on",
    "year": "2026",
    "cbec_export_volume_usd": "600000",
}


def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_overview_names_the_policy_its_validity_and_full_text(client, catalogue):
    html = client.get("/policy/").content.decode()
    assert "衡阳市支持跨境电子商务高质量发展若干措施" in html
    assert "2025-03-25" in html and "2027-03-24" in html
    assert "Support the construction of cross-border e-commerce industrial parks" in html


def test_the_measure_list_groups_every_measure_by_section(client, catalogue):
    html = client.get("/measures/").content.decode()
    for code in ALL_CODES:
        assert f'data-measure="{code}"' in html
    assert html.index("II(1)") < html.index('data-measure="M01"') < html.index("II(2)")


def test_the_measure_list_runs_a_constant_number_of_queries(
    client, catalogue, django_assert_max_num_queries
):
    client.get("/measures/")  # warm the catalogue cache
    with django_assert_max_num_queries(3):
        assert client.get("/measures/").status_code == 200


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_measure_page_shows_who_what_and_the_article(client, catalogue, code):
    response = client.get(f"/measures/{code}/")
    html = response.content.decode()
    assert response.status_code == 200
    measure = catalogue.measures[code]
    assert measure.clause in html
    assert "营业执照" in html  # the business licence every application needs
    assert 'id="calculator-form"' in html
    assert measure.article_text_en.split(".")[0][:40] in html.replace("&#x27;", "'")


def test_the_m05_page_lists_its_tiers_with_strictness(client, catalogue):
    html = client.get("/measures/M05/").content.decode()
    assert "500,000.00 美元" in html and "100,000.00 元" in html
    assert 'data-parameter="M05.tier_mid.threshold_usd"' in html
    row = html.split('data-parameter="M05.tier_mid.threshold_usd"', 1)[1].split("</tr>", 1)[0]
    assert "500,000.00 美元" in row and "严格大于（>）" in row


def test_an_unknown_measure_is_404(client, catalogue):
    assert client.get("/measures/M99/").status_code == 404


def test_the_calculator_works_without_javascript(client, catalogue):
    html = client.get("/measures/M05/", M05_QUERY).content.decode()
    assert 'data-amount="100000.00"' in html
    assert "100,000.00" in html
    assert "II(3)5" in html and "600,000.00 美元" in html


def test_the_calculator_answers_htmx_with_the_result_alone(client, catalogue):
    response = client.get("/measures/M05/", M05_QUERY, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-amount="100000.00"' in html


def test_the_calculator_says_its_answer_varies_by_htmx_so_no_cache_mixes_the_two(client, catalogue):
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get("/measures/M05/", M05_QUERY, **headers)
        assert "HX-Request" in [v.strip() for v in response["Vary"].split(",")]


def test_the_calculator_speaks_english(client, catalogue, settings):
    english(client, settings)
    html = client.get("/measures/M05/", M05_QUERY).content.decode()
    assert "USD 600,000.00" in html
    assert "How this was computed" in html


@pytest.mark.parametrize(
    "bad", ["1,000", "-1", "abc", "1e20", "NaN", "0.005", "99999999999999999999"]
)
def test_nonsense_in_the_calculator_gets_a_clear_error_and_keeps_the_input(client, catalogue, bad):
    html = client.get("/measures/M05/", {**M05_QUERY, "cbec_export_volume_usd": bad}).content
    html = html.decode()
    assert "data-amount" not in html
    assert "alert-danger" in html
    assert f'value="{bad}"' in html


def test_an_ineligible_applicant_sees_the_reason(client, catalogue):
    query = {**M05_QUERY, "entity_type": "park_operator"}
    html = client.get("/measures/M05/", query).content.decode()
    assert 'data-result-eligible="false"' in html


def test_the_interpretations_page_lists_each_reading_with_its_clauses(client, catalogue):
    html = client.get("/interpretations/").content.decode()
    for code in ("I-1", "I-2", "I-3", "I-4", "I-5", "I-6"):
        assert f'id="{code}"' in html
    assert "II(6)2" in html
