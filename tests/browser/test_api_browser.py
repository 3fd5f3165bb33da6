"""The API's reference page as a developer of another system reads it: the portal's own page in
Chinese, the operations listed by Swagger UI from /api/v1/openapi.json, nothing loaded from
another host, and a call tried from the page answers as the command would."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_reference_page_lists_the_operations_from_the_portals_own_files(
    page, live_server, catalogue, look
):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/api/")
    page.wait_for_selector(".opblock-summary-path")
    look("api-reference")

    assert page.locator("main h1").first.inner_text() == "开放接口"
    main = page.locator("main").inner_text()
    assert "金额一律为两位小数的字符串，单位为元。" in main
    assert "密钥放在请求头 X-API-Key 中。" in main
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/assess" in [p.replace("\u200b", "") for p in paths]
    assert any("/api/v1/disbursement-batches" in p.replace("\u200b", "") for p in paths)
    assert "衡阳跨境电商资助平台 API · Hengyang CBEC subsidy portal API" in main
    # Everything came from the portal itself: no CDN, no other host.
    assert requested and all(url.startswith(live_server.url) for url in requested), requested
    assert not [p for p in problems if "Content Security Policy" in p], problems

    # The assess operation opened: its description says what a developer needs in both languages.
    page.locator(".opblock-post .opblock-summary-control").first.click()
    page.wait_for_selector("text=naming the measure and the fact")
    look("api-reference-assess")
    opened = page.locator(".opblock-post.is-open").inner_text()
    assert "与 manage.py assess 相同" in opened
    assert "HTTP 400" in opened and "cbec_export_volume_usd" in opened


def test_a_key_shown_once_and_a_bank_result_confirmed_by_an_officer(
    page, live_server, catalogue, login, password, look
):
    from applications.workflow import State
    from hengyang_cbec.accounts.roles import Role
    from reviews.models import Award, DisbursementLine
    from reviews.services import finance
    from reviews.tests.factories import (
        Crew,
        advance,
        make_application,
        make_enterprise,
        make_member,
        make_staff,
    )

    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司", bank_account="0622020903001234567")
    application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
    advance(application, State.APPROVED, crew=Crew())
    award = Award.objects.get(application=application, status=Award.Status.FIXED)
    maker = make_staff(Role.DISBURSEMENT_OFFICER, "maker")
    checker = make_staff(Role.DISBURSEMENT_OFFICER, "checker")
    batch = finance.batch_create(user=maker, award_ids=[award.pk])
    batch = finance.batch_confirm(user=checker, batch=batch)
    line = batch.lines.get()
    make_staff(Role.SECURITY_ADMINISTRATOR, "security")

    login("security", password)
    page.goto(f"{live_server.url}/staff/security/")
    page.click("text=外部系统的 API 密钥")
    page.fill("#id_name", "工商银行衡阳分行")
    page.check("input[value=exchange_payments]")
    page.fill("#id_days", "30")
    page.click("main form button.btn-primary")
    page.wait_for_load_state("networkidle")
    secret = page.locator("#new-key").inner_text()
    assert secret.startswith("hyk_")
    assert "密钥已签发。请立即复制：密钥不会再次显示。" in page.locator("main").inner_text()
    look("key created and shown once")
    page.reload()  # the browser sends the form again: no second key, the secret is gone
    assert secret not in page.content()
    assert "没有再次签发" in page.locator("main").inner_text()
    row = page.locator("tbody tr", has_text="工商银行衡阳分行")
    assert "交换拨付文件" in row.inner_text()

    sent = page.request.post(
        f"{live_server.url}/api/v1/disbursement-batches/{batch.number}/results",
        headers={"X-API-Key": secret},
        data={
            "rows": [
                {
                    "line": line.line_reference,
                    "account": "0622020903001234567",
                    "amount": "100000.00",
                    "reference": "ICBC-2026-118",
                    "status": "paid",
                }
            ]
        },
    )
    assert sent.status == 202 and sent.json()["status"] == "pending"

    page.context.clear_cookies()
    login("maker", password)
    page.goto(f"{live_server.url}/finance/disbursements/")
    page.click("text=经接口提交的银行结果")
    assert "待确认" in page.locator("tbody").inner_text()
    look("bank results awaiting confirmation")
    page.click(f"text={batch.number}")
    table = page.locator("main table").inner_text()
    assert "衡阳湘南跨境贸易有限公司" in table and "ICBC-2026-118" in table
    assert table.count("100,000.00 元") == 2  # the batch's amount beside the bank's
    assert "银行已支付" in table
    look("bank result to confirm")
    page.click("text=确认并对账")
    page.wait_for_load_state("networkidle")
    assert "对账完成：1 笔支付成功，0 笔支付失败。" in page.locator("main").inner_text()
    assert "已确认并对账" in page.locator("main").inner_text()
    look("bank result reconciled")
    assert DisbursementLine.objects.get(pk=line.pk).state == DisbursementLine.State.PAID


def test_an_applicant_creates_a_token_and_their_software_reads_the_applications(
    page, live_server, catalogue, login, password, look
):
    from reviews.tests.factories import make_application, make_enterprise, make_member

    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司")
    member = make_member(enterprise, "owner")
    application = make_application(enterprise=enterprise, submitter=member)

    login("owner", password)
    page.goto(f"{live_server.url}/my/")
    page.click("text=我的接口令牌")
    assert "令牌只能查询" in page.locator("main").inner_text()
    page.fill("#id_days", "30")
    page.click("main form button.btn-primary")
    page.wait_for_load_state("networkidle")
    secret = page.locator("#new-token").inner_text()
    assert "令牌已创建。请立即复制：令牌不会再次显示。" in page.locator("main").inner_text()
    look("token created")

    answer = page.request.get(
        f"{live_server.url}/api/v1/my/applications", headers={"X-API-Key": secret}
    )
    assert answer.status == 200
    assert [a["reference"] for a in answer.json()] == [application.reference]
    assert answer.json()[0]["state_zh"] == "已提交"

    page.goto(f"{live_server.url}/my/api-tokens/")
    page.click("tbody button")
    page.wait_for_load_state("networkidle")
    assert "令牌已吊销。" in page.locator("main").inner_text()
    look("token revoked")
    refused = page.request.get(
        f"{live_server.url}/api/v1/my/applications", headers={"X-API-Key": secret}
    )
    assert refused.status == 401
    assert refused.json()["code"] == "key_revoked"
