"""After the load test: nothing the portal acknowledged was lost (`make load`, last step).

    .venv/bin/python benchmarks/load/verify.py var/load/acknowledged.jsonl

Reads the attempts the locustfile wrote. Every acknowledged upload must be stored (same
application, same SHA-256). For autosaves, each application's stored figure must be the value of
its last acknowledged autosave, or of a later attempt that the portal may have committed without
the client hearing back. Exits 1 if anything acknowledged is missing.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hengyang_cbec.settings")
django.setup()

from applications.models import Application, Evidence  # noqa: E402


def main(path: Path) -> int:
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    autosaves: dict[int, list[dict]] = defaultdict(list)
    uploads = [e for e in entries if e["kind"] == "upload" and e["acknowledged"]]
    for entry in entries:
        if entry["kind"] == "autosave":
            autosaves[entry["application"]].append(entry)
    lost: list[str] = []
    acknowledged_autosaves = 0
    stored = dict(Application.objects.filter(pk__in=autosaves).values_list("pk", "draft_facts"))
    for application, attempts in autosaves.items():
        attempts.sort(key=lambda e: e["seq"])
        acked = [i for i, e in enumerate(attempts) if e["acknowledged"]]
        acknowledged_autosaves += len(acked)
        if not acked:
            continue
        allowed = {e["value"] for e in attempts[acked[-1] :]}
        value = (stored.get(application) or {}).get(attempts[0]["field"])
        if value not in allowed:
            lost.append(f"application {application}: stored {value!r}, acknowledged {allowed}")
    present = set(
        Evidence.objects.filter(application_id__in={e["application"] for e in uploads}).values_list(
            "application_id", "sha256"
        )
    )
    for entry in uploads:
        if (entry["application"], entry["sha256"]) not in present:
            lost.append(f"upload {entry['name']} of application {entry['application']}")
    print(
        f"acknowledged autosaves: {acknowledged_autosaves} on {len(autosaves)} applications; "
        f"acknowledged uploads: {len(uploads)}; lost: {len(lost)}"
    )
    for line in lost[:20]:
        print(f"  LOST {line}")
    if not entries:
        print("no attempts recorded: did the load test run?")
        return 1
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "var/load/acknowledged.jsonl")))
