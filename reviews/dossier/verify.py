#!/usr/bin/env python3
"""Verify an auditor's dossier offline (审计档案离线校验).

Standard library only: this one file can be copied to any machine with Python 3.10+ and run there.

    python3 verify.py DOSSIER.zip                       # hashes and the chain excerpt's links
    python3 verify.py DOSSIER.zip --key k1=SECRET       # and each event's HMAC under its key
    python3 verify.py DOSSIER.zip --keys-file FILE      # keys as in AUDIT_HMAC_KEYS: id=secret,...
    python3 verify.py DOSSIER.zip --sha256 HEX          # and the ZIP's SHA-256 from the audit log

Checks: every file the manifest lists is in the ZIP with its SHA-256 and size, and the ZIP holds no
other file; the audit chain excerpt (audit/events.jsonl) is continuous: each event names the hash
of the one before it, from the first event of the dossier's applications to the last; each event of
the applications is one of theirs; with the key, each event's HMAC matches its content (events
written before the chain was keyed are plain SHA-256 and always checked). Exit status 0 when
everything holds, 1 with each problem named otherwise, 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "manifest.json"
FORMAT = "hengyang-cbec-dossier/1"
CHUNK = 1024 * 1024


@dataclass
class Report:
    files: int = 0
    events: int = 0
    links: int = 0
    hmac_checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def event_hash(prev_hash: str, canonical: str, key_id: str, keys: dict[str, str]) -> str | None:
    """The chain's hash of one event (as hengyang_cbec.audit computes it); None without its key."""
    if not key_id:
        return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
    secret = keys.get(key_id)
    if secret is None:
        return None
    message = f"{key_id}\n{prev_hash}\n{canonical}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def parse_keys(text: str) -> dict[str, str]:
    """`id=secret,id=secret` (the AUDIT_HMAC_KEYS format)."""
    keys = {}
    for part in text.replace("\n", ",").split(","):
        if "=" in part:
            key_id, secret = part.strip().split("=", 1)
            keys[key_id.strip()] = secret.strip()
    return keys


def _sha256_of_member(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with archive.open(name) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _check_files(archive: zipfile.ZipFile, manifest: dict, report: Report) -> None:
    listed = {}
    for entry in manifest.get("files", []):
        listed[entry["path"]] = entry
    present = {info.filename for info in archive.infolist() if not info.is_dir()}
    for path, entry in listed.items():
        if path not in present:
            report.problems.append(f"missing file: {path}")
            continue
        digest, size = _sha256_of_member(archive, path)
        if digest != entry.get("sha256"):
            report.problems.append(f"file changed (SHA-256 differs): {path}")
        elif size != entry.get("size"):
            report.problems.append(f"file changed (size differs): {path}")
        report.files += 1
    for path in sorted(present - set(listed) - {MANIFEST}):
        report.problems.append(f"file not in the manifest: {path}")


def _check_chain(
    archive: zipfile.ZipFile, manifest: dict, keys: dict[str, str], report: Report
) -> None:
    chain = manifest.get("audit_chain") or {}
    path = chain.get("path")
    if not path:
        report.notes.append("the dossier holds no audit events")
        return
    if path not in archive.namelist():
        return  # reported as a missing file
    applications = {app.get("id") for app in manifest.get("applications", [])}
    prev = None
    last_id = 0
    key_ids_missing: set[str] = set()
    with archive.open(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                row = json.loads(raw)
                event_id = int(row["id"])
                prev_hash, this_hash = str(row["prev_hash"]), str(row["hash"])
            except (ValueError, KeyError, TypeError):
                report.problems.append(f"{path} line {number}: not an event")
                return
            where = f"audit event {event_id}"
            if prev is None and chain.get("first_prev_hash") not in (None, prev_hash):
                report.problems.append(
                    f"{where}: the excerpt does not start where the manifest says"
                )
            if event_id <= last_id:
                report.problems.append(f"{where}: out of order")
            if prev is not None and prev_hash != prev:
                report.problems.append(f"{where}: the link to the previous event is broken")
            last_id, prev = event_id, this_hash
            if "event" not in row:
                report.links += 1
                continue
            report.events += 1
            canonical = str(row["event"])
            try:
                content = json.loads(canonical)
            except ValueError:
                report.problems.append(f"{where}: its content is not readable")
                continue
            if content.get("application_id") not in applications:
                report.problems.append(f"{where}: belongs to no application of the dossier")
            key_id = str(row.get("key_id", ""))
            expected = event_hash(prev_hash, canonical, key_id, keys)
            if expected is None:
                key_ids_missing.add(key_id)
                continue
            report.hmac_checked += 1
            if not hmac.compare_digest(expected, this_hash):
                report.problems.append(f"{where}: its content does not match its hash")
    if chain.get("last_hash") and prev != chain["last_hash"]:
        report.problems.append("audit chain: the excerpt does not end where the manifest says")
    if chain.get("events") is not None and chain["events"] != report.events:
        report.problems.append(
            f"audit chain: {report.events} events of the applications, manifest says "
            f"{chain['events']}"
        )
    if key_ids_missing:
        report.notes.append(
            "HMACs not checked without the key(s) "
            + ", ".join(sorted(key_ids_missing))
            + " (give --key or --keys-file)"
        )


def verify(path: str, *, keys: dict[str, str] | None = None, sha256: str = "") -> Report:
    """Check one dossier; raises OSError or zipfile.BadZipFile when the file cannot be read."""
    report = Report()
    if sha256:
        digest = hashlib.sha256()
        with Path(path).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != sha256.strip().lower():
            report.problems.append("the ZIP's SHA-256 differs from the one given")
    with zipfile.ZipFile(path) as archive:
        try:
            manifest = json.loads(archive.read(MANIFEST))
        except KeyError:
            report.problems.append("manifest.json is missing")
            return report
        except ValueError:
            report.problems.append("manifest.json is not readable")
            return report
        if manifest.get("format") != FORMAT:
            report.problems.append(f"unknown format: {manifest.get('format')!r}")
            return report
        _check_files(archive, manifest, report)
        _check_chain(archive, manifest, keys or {}, report)
    return report


def summary_lines(report: Report) -> list[str]:
    """What the command line and manage.py verify_dossier print."""
    return [
        f"{report.files} files, {report.events} audit events ({report.links} links between them), "
        f"{report.hmac_checked} HMACs checked",
        *(f"note: {note}" for note in report.notes),
        *(f"FAILED: {problem}" for problem in report.problems),
        "OK: the dossier is intact" if report.ok else "FAILED: the dossier has been altered",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an auditor's dossier (审计档案) offline.")
    parser.add_argument("dossier", help="the dossier's ZIP file")
    parser.add_argument("--key", action="append", default=[], help="ID=SECRET, repeatable")
    parser.add_argument("--keys-file", help="a file holding id=secret,id=secret")
    parser.add_argument("--sha256", default="", help="the ZIP's SHA-256 as the audit log records")
    args = parser.parse_args(argv)
    keys = parse_keys(",".join(args.key))
    if args.keys_file:
        keys.update(parse_keys(Path(args.keys_file).read_text(encoding="utf-8")))
    try:
        report = verify(args.dossier, keys=keys, sha256=args.sha256)
    except (OSError, zipfile.BadZipFile) as exc:
        sys.stderr.write(f"cannot read {args.dossier}: {exc}\n")
        return 2
    for line in summary_lines(report):
        sys.stdout.write(line + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
