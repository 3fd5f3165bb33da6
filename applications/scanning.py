"""The virus-scan hook for evidence files (SECURITY.md 22, 40).

A scanner answers CLEAN, INFECTED (quarantine: never downloadable) or PENDING: the scanner could
not be reached or gave no clear answer, so the file stays unavailable until a retry (fail closed).

settings.VIRUS_SCANNER picks the scanner:
- "clamd": ClamdScanner, the real one, talking to ClamAV's daemon at settings.CLAMD_URL.
- "eicar" (the embedded default): EicarOnlyScanner, which is NOT a virus scanner. It recognises only
  the EICAR test file, so that the quarantine path is exercised in development and tests.
  Production must set VIRUS_SCANNER=clamd and CLAMD_URL.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

from .clamav import ClamdClient, ClamdError
from .uploads import read_chunks

CLAMD_TIMEOUT_SECONDS = 60.0

# The EICAR test signature, assembled from two halves so this source file is not itself flagged.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE_NAME = "Eicar-Test-Signature"


class ScanResult(models.TextChoices):
    CLEAN = "clean", _("Clean")
    INFECTED = "infected", _("Infected (quarantined)")
    PENDING = "pending", _("Not scanned yet")


class Scanner(Protocol):
    def scan(self, fileobj: Any) -> tuple[ScanResult, str]:
        """(result, signature name when infected or error text when pending, else "")."""
        ...


class EicarOnlyScanner:
    """NOT a virus scanner: flags only the EICAR test string, anywhere in the file.

    The embedded-mode stand-in, so that quarantine is exercised without ClamAV. The stream is
    read in chunks with an overlap of len(EICAR) - 1 bytes, so a split signature is still found.
    """

    def scan(self, fileobj: Any) -> tuple[ScanResult, str]:
        carry = b""
        for chunk in read_chunks(fileobj):
            window = carry + chunk
            if EICAR in window:
                fileobj.seek(0)
                return ScanResult.INFECTED, EICAR_SIGNATURE_NAME
            carry = window[-(len(EICAR) - 1) :]
        fileobj.seek(0)
        return ScanResult.CLEAN, ""


class ClamdScanner:
    """ClamAV's clamd over INSTREAM. Anything but a clear OK or FOUND leaves the file PENDING."""

    def __init__(self, url: str, *, timeout: float = CLAMD_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.timeout = timeout
        self.client = ClamdClient(url, timeout=timeout)

    def scan(self, fileobj: Any) -> tuple[ScanResult, str]:
        try:
            verdict = self.client.instream(read_chunks(fileobj))
        except (ClamdError, OSError) as error:  # OSError: the file could not be read
            return ScanResult.PENDING, f"clamd at {self.url} failed: {error}"
        finally:
            fileobj.seek(0)
        if verdict.status == "OK":
            return ScanResult.CLEAN, ""
        if verdict.status == "FOUND":
            return ScanResult.INFECTED, verdict.detail
        return ScanResult.PENDING, f"clamd at {self.url} answered an error: {verdict.detail}"


def get_scanner() -> Scanner:
    """The scanner settings.VIRUS_SCANNER names ("eicar" or "clamd")."""
    name = getattr(settings, "VIRUS_SCANNER", "eicar")
    if name == "eicar":
        return EicarOnlyScanner()
    if name == "clamd":
        url = getattr(settings, "CLAMD_URL", "")
        if not url:
            raise ImproperlyConfigured("CLAMD_URL is required when VIRUS_SCANNER=clamd")
        return ClamdScanner(url)
    raise ImproperlyConfigured(f"VIRUS_SCANNER must be 'eicar' or 'clamd', got {name!r}")


def scan_stored_file(files, pk: int) -> str:
    """Scan the stored file of one row of `files` (evidence, an enterprise document, an objection
    file) once: a scanner that cannot be reached leaves it pending (fail closed); a row scanned
    meanwhile is left as it is. The rows' `scan_state` uses the values of ScanResult."""
    from django.db import transaction

    item = files.filter(pk=pk).first()
    if item is None or not item.file or item.scan_state != ScanResult.PENDING:
        return "nothing to do"
    with item.file.open("rb") as handle:
        result, detail = get_scanner().scan(handle)
    if result == ScanResult.PENDING:
        return "pending"
    with transaction.atomic():
        updated = files.filter(pk=pk, scan_state=ScanResult.PENDING).update(
            scan_state=ScanResult.CLEAN if result == ScanResult.CLEAN else ScanResult.INFECTED,
            scan_detail=str(detail)[:200],
        )
    return str(result) if updated else "already scanned"
