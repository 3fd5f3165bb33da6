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
