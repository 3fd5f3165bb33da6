"""`make bench`: the portal against bare Django and bare libraries, on the real path, as ratios.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python benchmarks/bench.py \
        [--sizes 10000,100000] [--rounds 5] [--notices 20] [--only pages,exports,...]

Needs PostgreSQL and Redis (their URLs in the environment; the database is migrated and seeded
here, so give it one of its own). For each size it tops the data up with `manage.py seed_volume`
(timed), starts gunicorn (2 workers, DEBUG off) on a free port with the portal and its bare twins
under /bare/ (`bare_views.py`: the same rows, columns and figures, the same base layout, the same
middleware and session), and compares, interleaved (product, bare, bare, product, ...), at least 5
rounds, min and median:

- pages: the filtered queue, the disbursement batch of 5,000 lines, the review page, the public
  calculator, the applicant dashboard (50 applications), the finance reports;
- exports of the paid lines from the database: CSV through the portal's view vs a bare csv view;
  XLSX through the portal's background task on a Celery worker vs a bare openpyxl view;
- approval notices: issued through the portal (outbox, Redis, a `celery worker -c 1`) vs the same
  HTML documents rendered by bare WeasyPrint with one cached font configuration and stylesheet;
  shown both as notices per minute per worker and as a ratio;
- `manage.py assess` (one call, a fresh process) vs a bare `django.setup()`;
- the rules engine with 1,000 earlier awards vs none.

It ends with one table: what, product, bare, ratio, goal, pass or fail. The machine may be shared:
only the ratios mean something.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bare_settings")
os.environ.setdefault("DEBUG", "0")
PY = sys.executable

from benchmarks.serving import (  # noqa: E402
    free_port,
    get,
    manage,
    start_gunicorn,
    start_worker,
    timed_get,
)

ROWS: list[tuple[str, str, str, str, str, bool]] = []


# -- measuring ------------------------------------------------------------------------------------


def interleaved(
    product: Callable[[], float], bare: Callable[[], float], rounds: int
) -> tuple[list[float], list[float]]:
    """Each round runs both sides, alternating which goes first; one warm-up run each."""
    product()
    bare()
    p_times, b_times = [], []
    for index in range(rounds):
        if index % 2:
            b_times.append(bare())
            p_times.append(product())
        else:
            p_times.append(product())
            b_times.append(bare())
    return p_times, b_times


def row(what: str, p: list[float], b: list[float], goal: float, unit: str = "ms") -> None:
    scale, places = (1000, 0) if unit == "ms" else (1, 2)
    ratio_min, ratio_median = min(p) / min(b), statistics.median(p) / statistics.median(b)
    ROWS.append(
        (
            what,
            f"{min(p) * scale:,.{places}f} / {statistics.median(p) * scale:,.{places}f} {unit}",
            f"{min(b) * scale:,.{places}f} / {statistics.median(b) * scale:,.{places}f} {unit}",
            f"{ratio_min:.2f}× / {ratio_median:.2f}×",
            f"≤ {goal}×",
            ratio_median <= goal,
        )
    )
    print(f"  {what}: {ROWS[-1][3]}", flush=True)


def info(what: str, product: str, bare: str, ratio: str, goal: str, ok: bool) -> None:
    ROWS.append((what, product, bare, ratio, goal, ok))
    print(f"  {what}: {product} vs {bare} ({ratio})", flush=True)


def page_pair(base: str, product_path: str, bare_path: str, session: str, reps: int):
    """One sample: the median of `reps` requests (the machine is noisy)."""

    def side(path: str) -> Callable[[], float]:
        return lambda: statistics.median(timed_get(base + path, session) for _ in range(reps))

    return side(product_path), side(bare_path)


# -- the data -------------------------------------------------------------------------------------


def session_for(username: str) -> str:
    """A logged-in session (with the second factor given) as the login page would leave it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from hengyang_cbec.accounts import second_factor
    from hengyang_cbec.accounts.models import User

    user = User.objects.get(username=username)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if second_factor.required_for(user):
        device = second_factor.confirmed_device(user) or TOTPDevice.objects.create(
            user=user, name="bench", confirmed=True
        )
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store["login_at"] = time.time() + 86400  # the absolute timeout does not end a long run
    store.create()
    return store.session_key


CALCULATOR_QUERY = (
    "calculate=1&year=2026&entity_type=enterprise&registered_in_hengyang=on&pays_taxes=on"
    "&independent_legal_person=on&has_cbec_performance=on&in_customs_cbec_statistics=on"
    "&cbec_export_volume_usd=600000&had_cbec_exports_before=on"
)


# -- the comparisons ------------------------------------------------------------------------------


def pages(base: str, size: int, rounds: int, reps: int) -> None:
    from applications.models import Application
    from policies.models import Place
    from reviews.models import DisbursementBatch

    commerce = session_for("volume-commerce")
    officer = session_for("volume-officer")
    applicant = session_for("volume-applicant")
    label = f"{size // 1000}k"
    district = Place.objects.order_by("position").values_list("code", flat=True)[3]
    query = f"measure=M05&district={district}"
    pairs = [
        (
            f"queue filtered by measure and district, {label}",
            f"/staff/queue/commerce/?tab=submitted&{query}",
            f"/bare/queue/?{query}",
            commerce,
        ),
        (
            f"queue first page, {label}",
            "/staff/queue/commerce/?tab=submitted",
            "/bare/queue/",
            commerce,
        ),
    ]
    if size == max(SIZES):
        batch = DisbursementBatch.objects.get(number="PB-V-5000")
        review = (
            Application.objects.filter(scope_key__startswith="vA", state="submitted")
            .order_by("pk")
            .values_list("pk", flat=True)[7]
        )
        pairs += [
            (
                "disbursement batch page, 5,000 lines",
                f"/finance/batches/{batch.pk}/",
                f"/bare/batches/{batch.pk}/",
                officer,
            ),
            (
                "review page",
                f"/staff/applications/{review}/",
                f"/bare/applications/{review}/",
                commerce,
            ),
            (
                "public calculator (M05)",
                f"/measures/M05/?{CALCULATOR_QUERY}",
                f"/bare/measures/M05/?{CALCULATOR_QUERY}",
                "",
            ),
            ("applicant dashboard, 50 applications", "/my/", "/bare/my/", applicant),
        ]
    pairs.append((f"finance reports, {label}", "/finance/reports/", "/bare/reports/", officer))
    for what, product_path, bare_path, session in pairs:
        product, bare = page_pair(base, product_path, bare_path, session, reps)
        p, b = interleaved(product, bare, rounds)
        row(what, p, b, 1.5)
        REPORT_TIMES.setdefault(what.rsplit(",", 1)[0], {})[size] = statistics.median(p)


REPORT_TIMES: dict[str, dict[int, float]] = {}


def exports(base: str, rounds: int, logs: Path, lines: int) -> None:
    from reviews.models import DisbursementBatch, ExportJob

    batch = DisbursementBatch.objects.get(number=f"PB-V-{lines}")
    lines = batch.lines.count()
    officer = session_for("volume-officer")
    csv_p, csv_b = page_pair(
        base,
        f"/finance/batches/{batch.pk}/export.csv",
        f"/bare/batches/{batch.pk}/export.csv",
        officer,
        1,
    )
    p, b = interleaved(csv_p, csv_b, rounds)
    row(f"CSV export of {lines:,} lines", p, b, 1.5, unit="s")

    def xlsx_product() -> float:
        start = time.perf_counter()
        status, _body, _headers = get(base + f"/finance/batches/{batch.pk}/export.xlsx", officer)
        if status != 302:
            raise RuntimeError(f"the XLSX export did not go to the background: HTTP {status}")
        job = ExportJob.objects.order_by("-pk").first()
        while True:
            job.refresh_from_db()
            if job.status == ExportJob.Status.READY:
                break
            if job.status == ExportJob.Status.FAILED:
                raise RuntimeError(f"export job {job.pk} failed; see {logs}/worker.log")
            time.sleep(0.05)
        timed_get(base + f"/finance/exports/{job.pk}/download/", officer)
        return time.perf_counter() - start

    xlsx_b = page_pair(base, "", f"/bare/batches/{batch.pk}/export.xlsx", officer, 1)[1]
    p, b = interleaved(xlsx_product, xlsx_b, rounds)
    row(f"XLSX export of {lines:,} lines (worker vs bare openpyxl)", p, b, 0.75, unit="s")


def notices(count: int, rounds: int) -> None:
    import weasyprint
    from django.db import transaction

    from reviews import pdf
    from reviews.models import Award, Notice, NoticeOutbox
    from reviews.services.notices import notice_issue

    awards = list(
        Award.objects.filter(status="fixed", application__state="disbursed")
        .select_related("application__enterprise", "application__measure")
        .order_by("pk")[:count]
    )
    # The bare side renders the very documents the worker renders, both languages.
    with transaction.atomic():
        sample = [notice_issue(award=award) for award in awards]
        NoticeOutbox.objects.filter(notice__in=sample).delete()
        documents = [pdf.render_html(n, lang) for n in sample for lang in ("zh", "en")]
        Notice.objects.filter(pk__in=[n.pk for n in sample]).delete()
    base_url = pdf._static_base_url()
    fonts = weasyprint.text.fonts.FontConfiguration()
    css = weasyprint.CSS(filename=str(ROOT / "static" / pdf.STYLESHEET), font_config=fonts)
    out = Path(tempfile.mkdtemp(prefix="bench-pdf-"))

    def bare() -> float:
        start = time.perf_counter()
        for index, html in enumerate(documents):
            data = weasyprint.HTML(string=html, base_url=base_url).write_pdf(
                stylesheets=[css], font_config=fonts
            )
            (out / f"{index}.pdf").write_bytes(data)
        return time.perf_counter() - start

    def product() -> float:
        start = time.perf_counter()
        with transaction.atomic():
            issued = [notice_issue(award=award).pk for award in awards]
        while NoticeOutbox.objects.filter(notice__in=issued, status="pending").exists():
            time.sleep(0.05)
        if NoticeOutbox.objects.filter(notice__in=issued, status="failed").exists():
            raise RuntimeError("a notice failed to render; see worker.log")
        return time.perf_counter() - start

    p, b = interleaved(product, bare, rounds)
    shutil.rmtree(out, ignore_errors=True)
    row(f"{count} notices (2 PDFs each): worker -c 1 via Redis vs bare WeasyPrint", p, b, 1.2, "s")
    per_minute = [count * 60 / t for t in p]
    bare_per_minute = [count * 60 / t for t in b]
    ratio = statistics.median(per_minute) / statistics.median(bare_per_minute)
    info(
        "notices per minute per worker",
        f"{max(per_minute):,.0f} / {statistics.median(per_minute):,.0f}",
        f"{max(bare_per_minute):,.0f} / {statistics.median(bare_per_minute):,.0f}",
        f"{ratio:.2f}× of bare",
        f"≥ 400/min and ≥ {1 / 1.2:.2f}× of bare",
        statistics.median(per_minute) >= 400 and ratio >= 1 / 1.2,
    )


def assess_command(rounds: int) -> None:
    import json

    from tests.facts import GENERAL_FACTS

    payload = Path(tempfile.mkstemp(suffix=".json")[1])
    payload.write_text(
        json.dumps(
            {
                "measure": "M05",
                "facts": {**GENERAL_FACTS, "cbec_export_volume_usd": 600000},
                "context": {"on_date": "2026-06-01"},
            }
        )
    )

    def run(args: list[str]) -> Callable[[], float]:
        def once() -> float:
            start = time.perf_counter()
            subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
            return time.perf_counter() - start

        return once

    product = run([PY, "manage.py", "assess", str(payload)])
    bare = run(
        [
            PY,
            "-c",
            "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'hengyang_cbec.settings'); django.setup()",
        ]
    )
    p, b = interleaved(product, bare, rounds)
    payload.unlink()
    row("manage.py assess, one call, vs bare django.setup()", p, b, 1.2, unit="s")


def engine(rounds: int) -> None:
    import random
    from decimal import Decimal

    from benchmarks.assess_throughput import SAMPLES, build_requests
    from policies.engine import Context, PolicyVersions, PriorAward, assess, load_catalogue_tree

    catalogue = PolicyVersions.from_data(load_catalogue_tree(ROOT / "policies" / "catalogue"))
    rng = random.Random(3)
    codes = sorted(SAMPLES)
    history = tuple(
        PriorAward(
            rng.choice([*codes, "EXT-1"]),
            rng.randint(2015, 2024),
            Decimal(rng.randrange(1, 300_000)),
            reference=f"R-{i}",
        )
        for i in range(1000)
    )
    plain = build_requests(2000)
    loaded = [
        (code, facts, Context(on_date=c.on_date, prior_awards=c.prior_awards + history))
        for code, facts, c in plain
    ]

    def rate(requests) -> Callable[[], float]:
        def once() -> float:
            start = time.perf_counter()
            for code, facts, context in requests:
                assess(catalogue, code, facts, context).to_dict()
            return (time.perf_counter() - start) / len(requests)

        return once

    p, b = interleaved(rate(loaded), rate(plain), rounds)
    with_history = 1 / statistics.median(p)
    without = 1 / statistics.median(b)
    # The goal (5,000/s with 1,000 earlier awards, where 26,000/s is the rate with none) as a
    # ratio to this machine's rate with none, so that a slow or busy machine reads the same.
    goal = 5_000 / 26_000
    info(
        "engine with 1,000 earlier awards (assessments/s)",
        f"{1 / min(p):,.0f} / {with_history:,.0f}",
        f"{1 / min(b):,.0f} / {without:,.0f} (none)",
        f"{with_history / without:.2f}× of none",
        f"≥ {goal:.2f}× (5,000 of 26,000/s)",
        with_history / without >= goal,
    )


# -- the run --------------------------------------------------------------------------------------

SIZES: list[int] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3, help="requests per page sample")
    parser.add_argument("--notices", type=int, default=20)
    parser.add_argument("--export-lines", type=int, default=100_000)
    parser.add_argument("--only", default="pages,exports,notices,assess,engine")
    args = parser.parse_args()
    if args.rounds < 5:
        sys.exit("At least 5 rounds.")
    only = set(args.only.split(","))
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database of the benchmark's own.")
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL must name a Redis database (the broker of the worker).")
    SIZES.extend(sorted(int(s) for s in args.sizes.split(",")))
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    print(f"logs in {logs}", flush=True)
    manage("migrate", "--noinput")
    manage("load_policy")
    manage("compilemessages", "--ignore=.venv")

    import django

    django.setup()
    from django.db import close_old_connections

    for size in SIZES:
        start = time.monotonic()
        out = manage("seed_volume", "--applications", str(size))
        print(f"seeded {size:,}: {out.strip().splitlines()[-1]} ({time.monotonic() - start:.0f} s)")
        manage(
            "shell",
            "-c",
            "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')",
        )
        close_old_connections()
        if not only & {"pages", "exports"}:
            continue
        port = free_port()
        server = start_gunicorn(port, logs)
        worker = start_worker(logs) if "exports" in only and size == max(SIZES) else None
        try:
            base = f"http://127.0.0.1:{port}"
            if "pages" in only:
                pages(base, size, args.rounds, args.reps)
            if worker:
                # The export batch is added after the pages were measured (its lines are extra
                # applications, which the pages must not see).
                start = time.monotonic()
                manage(
                    "seed_volume",
                    "--applications",
                    str(size),
                    "--batch-lines",
                    str(args.export_lines),
                )
                print(
                    f"added a batch of {args.export_lines:,} lines "
                    f"({time.monotonic() - start:.0f} s)"
                )
                close_old_connections()
                exports(base, args.rounds, logs, args.export_lines)
        finally:
            server.stop()
            if worker:
                worker.stop()
    if "pages" in only and len(SIZES) > 1:
        for what, times in REPORT_TIMES.items():
            if what.startswith("finance reports"):
                growth = times[max(SIZES)] / times[min(SIZES)]
                info(
                    f"finance reports, {min(SIZES) // 1000}k → {max(SIZES) // 1000}k",
                    f"{times[max(SIZES)] * 1000:,.0f} ms at {max(SIZES) // 1000}k",
                    f"{times[min(SIZES)] * 1000:,.0f} ms at {min(SIZES) // 1000}k",
                    f"{growth:.2f}× growth",
                    "≤ 2×",
                    growth <= 2,
                )
    if "notices" in only:
        worker = start_worker(logs)
        try:
            notices(args.notices, args.rounds)
        finally:
            worker.stop()
    if "assess" in only:
        assess_command(args.rounds)
    if "engine" in only:
        engine(args.rounds)
    print_table(args)


def print_table(args) -> None:
    from django.db import connection

    cpus = os.cpu_count()
    print()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {platform.node()} · "
        f"{platform.processor() or platform.machine()}, {cpus} CPUs · Python "
        f"{platform.python_version()} · PostgreSQL {connection.pg_version // 10000} · "
        f"{args.rounds} rounds, interleaved; min / median"
    )
    print()
    print("| what | product | bare | ratio | goal | |")
    print("|---|---|---|---|---|---|")
    for what, product, bare, ratio, goal, ok in ROWS:
        print(f"| {what} | {product} | {bare} | {ratio} | {goal} | {'pass' if ok else 'FAIL'} |")


if __name__ == "__main__":
    main()
