"""An enterprise that has never seen the portal files an M05 application in the browser."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from applications.models import Application, EnterpriseClaim, Evidence
from applications.tests.factories import EnterpriseFactory, draft, make_uscc, member_of, pdf_bytes
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from reviews.services.enterprises import claim_verify
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def evidence_file(tmp_path):
    path = tmp_path / "证明材料.pdf"
    path.write_bytes(pdf_bytes())
    return path


def fill_m05_and_submit(page, evidence_file, signer: str, look, *, english: bool = False):
    # A blank form opens without "required" errors: nobody has typed yet.
    assert page.locator("#application-form .invalid-feedback").count() == 0
    assert page.get_attribute("#id_cbec_export_volume_usd", "inputmode") == "decimal"
    look("blank application form")
    page.fill("#id_cbec_export_volume_usd", "600000")
    # I-12: the form asks whether the enterprise exported before; the estimate waits for it.
    page.select_option("#id_had_cbec_exports_before", "no")
    page.locator("#estimate [data-estimate='100000.00']").wait_for()
    page.locator("#autosave-status[data-state=saved]").wait_for()
    shown = page.locator("#estimate [data-estimate-shown]").inner_text()
    assert shown == ("CNY 100,000.00" if english else "100,000.00 元")
    look("figures typed, estimate shown")
    forms = page.locator("[data-document-type]")
    for index in range(forms.count()):
        block = page.locator("[data-document-type]").nth(index)
        block.locator("input[type=file]").set_input_files(str(evidence_file))
        block.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        # The confirmation names the file that was uploaded.
        assert evidence_file.name in page.locator(".messages").inner_text()
    assert page.locator("[data-document-type] li.text-danger").count() == 0
    look("documents uploaded")
    page.locator("[data-to-check]:visible").click()
    page.wait_for_load_state("networkidle")
    figure = page.locator("[data-fact=cbec_export_volume_usd]").inner_text()
    assert figure == ("USD 600,000.00" if english else "600,000.00 美元")
    look("check and declare")
    page.check("#id_declared")
    page.fill("#id_signer_name", signer)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    look("receipt")


def test_register_verify_profile_apply_upload_declare_submit_in_chinese(
    page, live_server, catalogue, evidence_file, look
):
    page.goto(f"{live_server.url}/register/")
    assert page.get_attribute("#id_phone", "inputmode") == "tel"
    look("register")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.fill("#id_username", "xinxing")
    page.fill("#id_full_name", "赵新")
    page.fill("#id_email", "xinxing@example.test")
    page.fill("#id_phone", "13912345678")
    page.fill("#id_password1", "a-Long-passphrase-2026")
    page.fill("#id_password2", "a-Long-passphrase-2026")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    link = re.search(r"https?://\S+/register/verify/\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.click("a[href='/my/enterprise/new/']")
    page.fill("#id_name", "衡阳新星跨境电商有限公司")
    page.fill("#id_uscc", make_uscc(99))
    page.select_option("#id_entity_type", "enterprise")
    page.select_option("#id_district", label="雁峰区")
    page.fill("#id_registered_address", "衡阳市雁峰区白沙洲")
    page.fill("#id_legal_representative", "赵大")
    page.fill("#id_contact_name", "赵新")
    page.fill("#id_contact_phone", "13912345678")
    page.fill("#id_bank_name", "中国银行衡阳分行")
    page.fill("#id_bank_account", "0012345678901234567")
    assert page.get_attribute("#id_contact_phone", "inputmode") == "tel"
    assert page.get_attribute("#id_bank_account", "inputmode") == "numeric"
    for name in (
        "registered_in_hengyang",
        "pays_taxes",
        "independent_legal_person",
        "has_cbec_performance",
        "in_customs_cbec_statistics",
    ):
        page.check(f"#id_{name}")
    # The right to represent the enterprise: the licence and the authorisation letter.
    page.locator("#id_licence").set_input_files(str(evidence_file))
    page.locator("#id_authorisation").set_input_files(str(evidence_file))
    look("enterprise profile filled")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    # The Bureau of Commerce verifies it (its own journey: test_enterprise_verification_browser).
    claim = EnterpriseClaim.objects.get()
    claim.documents.update(scan_state="clean")
    claim_verify(user=make_user(Role.COMMERCE_REVIEWER, username="verifier"), claim=claim)
    page.reload()
    look("dashboard")
    page.click("[data-measure=M05] a[href='/my/apply/M05/']")
    assert "申报：M05" in page.locator("h1").inner_text()
    page.select_option("#id_year", "2026")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    fill_m05_and_submit(page, evidence_file, "赵新", look)
    reference = page.locator("[data-reference]").inner_text().strip()
    assert re.fullmatch(r"HY-CBEC-\d{4}-\d{6}", reference)
    page.click("main a[href='/my/applications/']")
    row = page.locator(f"tr[data-reference='{reference}']")
    assert row.is_visible()
    assert "已提交" in row.inner_text()
    assert "100,000.00" in row.inner_text()
    look("my applications")
    application = Application.objects.get(reference=reference)
    assert application.state == State.SUBMITTED
    assert application.evidence.count() == len(application.measure.evidence_types)


def test_a_shorter_run_in_english(
    page, live_server, catalogue, evidence_file, login, password, look
):
    enterprise = EnterpriseFactory()
    member_of(enterprise, "filer")
    login("filer", password)
    page.click("button[data-language=en]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/my/")
    assert "What you can apply for" in page.content()
    page.click("[data-measure=M05] a[href='/my/apply/M05/']")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "100,000.00" not in page.locator("#estimate").inner_text()
    fill_m05_and_submit(page, evidence_file, "Wang Fang", look, english=True)
    assert "Application submitted" in page.content()
    assert Application.objects.get().state == State.SUBMITTED


def test_a_draft_typed_in_the_browser_is_all_there_after_a_reload(
    page, live_server, catalogue, login, password
):
    enterprise = EnterpriseFactory()
    user = member_of(enterprise, "typist")
    application = draft(enterprise, user, code="M06")
    login("typist", password)
    page.goto(f"{live_server.url}/my/applications/{application.pk}/edit/")
    page.fill("#id_promotion_expenses_cny", "123456.78")
    page.check("#id_new_store")
    page.fill("#id_settlement_fee_cny", "2000")
    page.locator("#autosave-status[data-state=saved]").wait_for()
    page.reload()
    assert page.input_value("#id_promotion_expenses_cny") == "123456.78"
    assert page.is_checked("#id_new_store")
    assert page.input_value("#id_settlement_fee_cny") == "2000"


def test_entries_typed_while_offline_are_kept_and_saved_when_back_online(
    page, live_server, catalogue, login, password
):
    enterprise = EnterpriseFactory()
    user = member_of(enterprise, "offline")
    application = draft(enterprise, user, code="M05")
    login("offline", password)
    page.goto(f"{live_server.url}/my/applications/{application.pk}/edit/")
    page.context.set_offline(True)
    page.fill("#id_cbec_export_volume_usd", "750000")
    page.locator("#autosave-status[data-state=unsaved]").wait_for()
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#autosave-status[data-state=saved]").wait_for()
    application.refresh_from_db()
    assert application.draft_facts["cbec_export_volume_usd"] == "750000"
    assert Evidence.objects.count() == 0


def test_an_applicant_files_on_a_phone_with_cards_and_the_estimate_beside_the_figures(
    phone, live_server, catalogue, evidence_file, login, password, look
):
    """390×844: no sideways scrolling (look() checks it), the list is cards, the estimate comes
    right after the figures and before the documents, the reference number never breaks."""
    page = phone
    enterprise = EnterpriseFactory()
    member_of(enterprise, "mobile")
    login("mobile", password)
    page.goto(f"{live_server.url}/my/")
    look("dashboard on a phone")
    page.click("[data-measure=M05] a[href='/my/apply/M05/']")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    figures = page.locator("#h-figures").bounding_box()
    estimate = page.locator("#h-estimate").bounding_box()
    documents = page.locator("#h-evidence").bounding_box()
    assert figures["y"] < estimate["y"] < documents["y"]
    fill_m05_and_submit(page, evidence_file, "王芳", look)
    shown = page.locator("strong[data-reference]")
    assert shown.bounding_box()["height"] < 40  # one line
    reference = shown.inner_text().strip()
    page.click("main a[href='/my/applications/']")
    page.wait_for_load_state("networkidle")
    card = page.locator(f"tr[data-reference='{reference}']")
    # A card: the row is as wide as the page's content, its cells stacked.
    assert card.bounding_box()["width"] > 300
    assert page.locator("table.table-cards thead").bounding_box()["height"] <= 1
    assert "100,000.00" in card.inner_text()
    look("my applications as cards")
