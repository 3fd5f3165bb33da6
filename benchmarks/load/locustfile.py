"""The portal under mixed load: applicants, reviewers and finance at once (`make load`).

Applicants sign in, read their pages, autosave figures every few seconds and upload evidence;
commerce reviewers work their queues; finance officers read disbursements and reports and export
batches as CSV and XLSX; the public pages are read throughout. Every autosave and upload the
portal acknowledged is written to LOAD_ACKS (one JSON line each, with the attempts that were not
acknowledged), so that benchmarks/load/verify.py can check afterwards that nothing acknowledged was
lost. At the end a table gives, per endpoint, requests/s and p50/p95/p99, and the 5xx count; the
run fails if any request answered 5xx.

Environment: LOAD_PERSONAS (from prepare.py), LOAD_ACKS, LOAD_SAMPLE_PDF, LOAD_APPLICANTS,
LOAD_REVIEWERS, LOAD_FINANCE (users of each kind).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import re
import threading
import uuid
from collections import Counter
from pathlib import Path

from locust import HttpUser, between, events, task

PERSONAS = json.loads(Path(os.environ["LOAD_PERSONAS"]).read_text())
ACKS = Path(os.environ.get("LOAD_ACKS", "var/load/acknowledged.jsonl"))
SAMPLE_PDF = Path(os.environ.get("LOAD_SAMPLE_PDF", "var/load/sample.pdf")).read_bytes()
PASSWORD = PERSONAS["password"]
PUBLIC_PAGES = ["/policy/", "/measures/", "/measures/M05/", "/interpretations/", "/notices/"]
FIGURE = "cbec_export_volume_usd"

_lock = threading.Lock()
_applicants = iter(PERSONAS["applicants"])
_sequence = itertools.count(1)
_server_errors: Counter[str] = Counter()
ACKS.parent.mkdir(parents=True, exist_ok=True)
ACKS.write_text("")


def _record(entry: dict) -> None:
    with _lock:
        entry["seq"] = next(_sequence)
        with ACKS.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")


class PortalUser(HttpUser):
    abstract = True

    def sign_in(self, username: str) -> None:
        self.client.get("/accounts/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {username} answered {response.status_code}")

    def csrf(self) -> dict:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    @task(1)
    def public_page(self) -> None:
        self.client.get(random.choice(PUBLIC_PAGES), name="public page")


class Applicant(PortalUser):
    wait_time = between(2, 5)
    fixed_count = int(os.environ.get("LOAD_APPLICANTS", "50"))

    def on_start(self) -> None:
        with _lock:
            persona = next(_applicants, None)
        if persona is None:
            raise RuntimeError("more applicants than personas: raise --applicants in prepare")
        self.application = persona["application"]
        self.sign_in(persona["username"])
        self.edit_url = f"/my/applications/{self.application}/edit/"

    @task(6)
    def autosave(self) -> None:
        value = str(random.randint(1, 10_000_000))
        entry = {"kind": "autosave", "application": self.application, "field": FIGURE}
        with self.client.post(
            f"/my/applications/{self.application}/autosave/",
            {FIGURE: value},
            headers={"Accept": "application/json", **self.csrf()},
            name="autosave",
            catch_response=True,
        ) as response:
            acknowledged = response.status_code == 200 and response.json().get("ok") is True
            if not acknowledged:
                response.failure(f"autosave answered {response.status_code}")
        _record({**entry, "value": value, "acknowledged": acknowledged})

    @task(1)
    def upload(self) -> None:
        name = f"load-{uuid.uuid4().hex[:12]}.pdf"
        content = SAMPLE_PDF + f"\n%{name}\n".encode()
        digest = hashlib.sha256(content).hexdigest()
        with self.client.post(
            f"/my/applications/{self.application}/evidence/",
            {"document_type": "business_licence"},
            files={"file": (name, content, "application/pdf")},
            headers=self.csrf(),
            name="upload",
            catch_response=True,
        ) as response:
            # The portal answers by showing the edit page with the file listed.
            acknowledged = response.status_code == 200 and name in response.text
            if not acknowledged:
                response.failure(f"upload not acknowledged ({response.status_code})")
        _record(
            {
                "kind": "upload",
                "application": self.application,
                "name": name,
                "sha256": digest,
                "acknowledged": acknowledged,
            }
        )

    @task(3)
    def read(self) -> None:
        self.client.get("/my/", name="applicant dashboard")
        self.client.get(self.edit_url, name="application edit")

    @task(1)
    def notifications(self) -> None:
        self.client.get("/my/notifications/", name="notifications")


class Reviewer(PortalUser):
    wait_time = between(2, 6)
    fixed_count = int(os.environ.get("LOAD_REVIEWERS", "7"))

    def on_start(self) -> None:
        self.sign_in(random.choice(PERSONAS["reviewer"][:2]))  # the commerce reviewers

    @task(3)
    def queue(self) -> None:
        response = self.client.get("/staff/queue/commerce/", name="commerce queue")
        ids = re.findall(r"/staff/applications/(\d+)/", response.text)
        if ids:
            self.client.get(f"/staff/applications/{random.choice(ids)}/", name="review page")

    @task(1)
    def workspace(self) -> None:
        self.client.get("/staff/", name="staff workspace")


class Finance(PortalUser):
    wait_time = between(3, 8)
    fixed_count = int(os.environ.get("LOAD_FINANCE", "3"))

    def on_start(self) -> None:
        self.sign_in(random.choice(PERSONAS["finance"]))

    @task(2)
    def disbursements(self) -> None:
        response = self.client.get("/finance/disbursements/", name="disbursements")
        batches = sorted(set(re.findall(r"/finance/batches/(\d+)/", response.text)))
        if batches:
            batch = random.choice(batches)
            file_format = random.choice(["csv", "xlsx"])
            self.client.get(
                f"/finance/batches/{batch}/export.{file_format}", name=f"export {file_format}"
            )

    @task(1)
    def reports(self) -> None:
        response = self.client.get("/finance/reports/", name="reports")
        tables = sorted(set(re.findall(r"/finance/reports/([\w-]+)\.xlsx", response.text)))
        if tables:
            self.client.get(f"/finance/reports/{random.choice(tables)}.xlsx", name="report xlsx")


@events.request.add_listener
def _count_server_errors(name, response=None, **_kwargs) -> None:
    if response is not None and getattr(response, "status_code", 0) >= 500:
        with _lock:
            _server_errors[name] += 1


@events.quitting.add_listener
def _report(environment, **_kwargs) -> None:
    stats = environment.stats
    print()
    head = ("endpoint", "requests", "req/s", "p50", "p95", "p99", "5xx")
    print("{:<22} {:>8} {:>7} {:>6} {:>6} {:>6} {:>4}".format(*head))
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        print(
            f"{entry.name:<22} {entry.num_requests:>8} {entry.total_rps:>7.1f} "
            f"{entry.get_response_time_percentile(0.5):>6.0f} "
            f"{entry.get_response_time_percentile(0.95):>6.0f} "
            f"{entry.get_response_time_percentile(0.99):>6.0f} {_server_errors[entry.name]:>4}"
        )
    total = stats.total
    print(
        f"{'all':<22} {total.num_requests:>8} {total.total_rps:>7.1f} "
        f"{total.get_response_time_percentile(0.5):>6.0f} "
        f"{total.get_response_time_percentile(0.95):>6.0f} "
        f"{total.get_response_time_percentile(0.99):>6.0f} {sum(_server_errors.values()):>4}"
    )
    print(f"(times in ms; failures {total.num_failures}; 5xx {sum(_server_errors.values())})")
    if _server_errors:
        environment.process_exit_code = 1
