"""Chinese first, English complete: every marked string has a Chinese translation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCES = ("hengyang_cbec", "policies", "applications", "reviews", "templates")


def test_every_chinese_message_is_translated_and_not_fuzzy():
    catalogue = polib.pofile(str(PO_FILE))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_the_catalogue_holds_every_string_the_code_marks(tmp_path):
    """makemessages on a copy of the sources finds no message missing from django.po."""
    for name in SOURCES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(ROOT / "manage.py", tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "VAR_DIR": str(tmp_path / "var")},
    )
    assert result.returncode == 0, result.stderr
    extracted = polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {(e.msgctxt, e.msgid) for e in polib.pofile(str(PO_FILE))}
    missing = sorted(e.msgid for e in extracted if (e.msgctxt, e.msgid) not in known)
    assert missing == [], "run `make messages` and translate: " + "; ".join(missing[:20])


# --- Strings built at run time -------------------------------------------------------------------
# makemessages sees only literal strings. What services, notifications and the audit timeline build
# from codes is checked here by producing it, in Chinese, and looking for English words in it.

import re  # noqa: E402

import pytest  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import translation  # noqa: E402

# Words that are Chinese text's own: reference prefixes, file formats, currency codes in data.
ALLOWED_LATIN = {"HY", "CBEC", "PDF", "JPEG", "PNG", "XLSX", "DOCX", "CSV", "ZIP", "MB", "SHA"}
_WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
_CODE_DIRS = ("hengyang_cbec", "policies", "applications", "reviews")
_TIMELINE_PREFIXES = ("application.", "review.", "finance.", "award.", "notice.")


def english_words(text: str) -> list[str]:
    # Roman numerals are clause citations (III, IV), not English.
    return sorted(
        {
            w
            for w in _WORD.findall(text)
            if w.upper() not in ALLOWED_LATIN and not re.fullmatch("[IVX]+", w)
        }
    )


def recorded_actions() -> set[str]:
    """Every audit action the code records, read from the source (also through helpers)."""
    from applications.workflow import TRANSITIONS
    from reviews.transitions import AWARD, BATCH, LINE, NOTICE

    actions: set[str] = set()
    sources = {
        path: path.read_text(encoding="utf-8")
        for directory in _CODE_DIRS
        for path in (ROOT / directory).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    }
    # record_action(obj, "<prefix>.<name>", ...) names the event in its second argument (a
    # literal, or a choice between literals); move() records "<table.event><action>".
    for source in sources.values():
        actions.update(re.findall(r'action="([a-z_]+\.[a-z_]+)"', source))
        for call in re.findall(r"record_action\(\s*[\w.]+,\s*((?:[^,]|\n)+?),\s*\w+,", source):
            actions.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', call))
    for table in (AWARD, BATCH, LINE, NOTICE):
        actions.update(f"{table.event}{action}" for (_state, action) in table.moves)
    for _state, action in TRANSITIONS:
        actions.add(f"review.{action.value}")
    return {a for a in actions if a.startswith(_TIMELINE_PREFIXES)}


def test_the_source_scan_finds_the_actions_it_must_know():
    found = recorded_actions()
    for action in ("application.evidence_add", "review.verify", "review.notice_publish"):
        assert action in found


def test_every_recorded_action_reads_as_a_chinese_sentence_and_label(db, catalogue):
    from hengyang_cbec.audit.models import AuditEvent
    from hengyang_cbec.formatting import EVENT_SENTENCES, event_label, event_sentence

    actions = recorded_actions()
    # Transitions the applicant drives are recorded as application.<action>.
    actions |= {"application.submit", "application.resubmit", "application.withdraw"}
    missing = sorted(a for a in actions if a not in EVENT_SENTENCES)
    assert missing == [], f"add a sentence to EVENT_SENTENCES for {missing}"
    with translation.override("zh-hans"):
        for action in sorted(actions):
            event = AuditEvent(
                action=action,
                actor_name="张伟",
                data={"amount_cny": "60000.00", "document_type": "business_licence"},
            )
            sentence = event_sentence(event)
            assert english_words(sentence) == [], (action, sentence)
            label = event_label(action)
            assert english_words(label) == [], (action, label)


def _visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style|code)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    html = re.sub(r"\b[0-9A-Z]{18}\b", " ", html)  # unified social credit codes
    html = re.sub(r"\b[0-9a-f]{12,64}\b", " ", html)  # rules versions, file hashes
    return re.sub(r"&\w+;|&#\d+;", " ", html)


@pytest.mark.django_db
def test_demo_notifications_e_mails_and_pages_have_no_english_in_chinese(
    client, catalogue, settings
):
    """Notifications and e-mails built by services, and the pages that show codes from data."""
    from applications.models import Application, Notification

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with translation.override("zh-hans"):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: PTH123, SIM115
    for notification in Notification.objects.all():
        assert english_words(notification.message_zh) == [], notification.message_zh
    for message in mail.outbox:
        assert english_words(message.subject + message.body) == [], message.body
    client.login(username="commerce", password=settings.DEMO_PASSWORD)
    for application in Application.objects.exclude(state="draft"):
        response = client.get(f"/staff/applications/{application.pk}/", HTTP_ACCEPT_LANGUAGE="zh")
        main = response.content.decode().split("<main", 1)[1].split(">", 1)[1]
        words = english_words(_visible_text(main))
        assert words == [], (application.state, words)
