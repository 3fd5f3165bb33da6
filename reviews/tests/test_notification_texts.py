"""The bureau's messages to applicants come from translatable templates, in both languages."""

from __future__ import annotations

from applications.workflow import State
from hengyang_cbec.notifications.models import Notification
from reviews.services.review import application_reject

from .factories import advance


def test_a_rejection_reads_as_written_in_chinese_and_english(submitted, member, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    submitted.refresh_from_db()
    reason = "出口额与报关单不符 <“证明材料” & 发票>"
    application_reject(
        user=crew.commerce, application=submitted, reason=reason, version=submitted.version
    )
    note = Notification.objects.filter(user=member).latest("pk")
    assert note.message_zh == f"申报 {submitted.reference} 未予通过。理由：{reason}"
    assert note.message_en == f"Application {submitted.reference} was rejected. Reason: {reason}"


def test_an_approval_names_the_amount_in_each_language_s_own_form(submitted, member, crew):
    advance(submitted, State.APPROVED, crew=crew, amount="100000")
    note = Notification.objects.filter(
        user=member, message_en__contains="Municipal People's Government ("
    ).get()
    assert "核定资助100,000.00 元。" in note.message_zh
    assert note.message_en.endswith("): CNY 100,000.00.")
