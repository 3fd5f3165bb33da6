"""Every refusal the portal shows a person is a PortalError with a translated message."""

from __future__ import annotations

import pytest
from django.utils import translation

from applications.services import ApplicationError
from applications.uploads import UploadRejected
from applications.workflow import TransitionRefused
from hengyang_cbec.accounts.services import AccessRefused
from hengyang_cbec.errors import PortalError, StaleVersion
from reviews.services.finance import FinanceError
from reviews.services.notices import NoticeError
from reviews.services.steps import ReviewError


@pytest.mark.parametrize(
    "refusal",
    [ApplicationError, ReviewError, FinanceError, NoticeError, TransitionRefused, AccessRefused],
)
def test_each_refusal_is_a_portal_error_whose_message_is_what_the_person_reads(refusal):
    error = refusal("理由")
    assert isinstance(error, PortalError)
    assert str(error) == error.message == "理由"


def test_a_rejected_upload_shows_its_message_and_keeps_its_code_for_the_logs():
    error = UploadRejected("too_large", "文件过大")
    assert isinstance(error, PortalError)
    assert error.message == "文件过大" and error.code == "too_large"


def test_a_stale_page_reads_the_same_for_applicants_and_reviewers_in_each_language():
    with translation.override("zh-hans"):
        chinese = str(StaleVersion())
    with translation.override("en"):
        english = str(StaleVersion())
    assert english.startswith("This application changed since your page was loaded")
    assert chinese != english and "重新" in chinese
