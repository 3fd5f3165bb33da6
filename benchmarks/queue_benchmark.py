"""Server time of the commerce queue vs a bare Django ListView over the same table.

    .venv/bin/python benchmarks/queue_benchmark.py [--n 10000] [--runs 30]

Sets Django up against the configured database (DATABASE_URL, else the embedded SQLite; it must
be migrated), loads the policy if it is missing, creates `n` submitted applications if fewer
exist, and times, in this process and with the same request pipeline (RequestFactory, a logged-in
commerce reviewer, the project's templates):

- the commerce queue view (`reviews.views.queues.commerce_queue`, first page of 50, tab
  "submitted");
- a bare `ListView` of the same 50 rows from the same table with one `select_related`, rendered
  in the project's base layout.

Prints the median of each and the ratio (goal ≤ 1.5×).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hengyang_cbec.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402, F401
from django.contrib.messages.storage.fallback import FallbackStorage  # noqa: E402
from django.contrib.sessions.backends.base import SessionBase  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.generic import ListView  # noqa: E402

from applications.models import Application, Enterprise  # noqa: E402
from applications.validators import USCC_ALPHABET, uscc_check_character  # noqa: E402
from applications.workflow import State  # noqa: E402
from hengyang_cbec.accounts.models import User  # noqa: E402
from hengyang_cbec.accounts.roles import Role, sync_role_groups  # noqa: E402
from policies.models import Measure, Place, Policy  # noqa: E402
from reviews.views.queues import commerce_queue  # noqa: E402

BARE_TEMPLATE = engines["django"].from_string(
    """{% extends "base.html" %}{% block content %}
<table class="table table-sm"><thead><tr><th>Reference</th><th>Enterprise</th><th>Measure</th>
<th>Year</th><th>State</th><th>Amount</th><th>Submitted</th></tr></thead><tbody>
{% for a in object_list %}<tr><td><a href="/staff/applications/{{ a.pk }}/">{{ a.reference }}</a>
</td><td>{{ a.enterprise.name }}</td><td>{{ a.measure_id }}</td><td>{{ a.year }}</td>
<td>{{ a.get_state_display }}</td><td>{{ a.estimate_cny }}</td>
<td>{{ a.submitted_at|date:"Y-m-d" }}</td></tr>{% endfor %}</tbody></table>{% endblock %}"""
)


class BareList(ListView):
    paginate_by = 50

    def get_queryset(self):
        return (
            Application.objects.filter(state=State.SUBMITTED)
            .select_related("enterprise")
            .order_by("submitted_at", "pk")
        )

    def get_template_names(self):
        return []

    def render_to_response(self, context, **kwargs):
        from django.http import HttpResponse

        return HttpResponse(BARE_TEMPLATE.render(context, self.request))


def ensure_data(n: int) -> User:
    if not Policy.objects.exists():
        from policies.services import bump_catalogue_version, load_catalogue, read_catalogue_files

        load_catalogue(read_catalogue_files())
        bump_catalogue_version()
    sync_role_groups()
    from django.contrib.auth.models import Group

    user, _created = User.objects.get_or_create(username="bench-commerce")
    user.groups.add(Group.objects.get(name=Role.COMMERCE_REVIEWER.value))
    submitter, _created = User.objects.get_or_create(username="bench-applicant")
    have = Application.objects.filter(state=State.SUBMITTED).count()
    if have >= n:
        return user
    measure = Measure.objects.get(code="M05")
    district = Place.objects.order_by("position").first()
    now = timezone.now()
    with transaction.atomic():
        enterprises = []
        for i in range(100):
            body = "91430499"
            k = 7_000_000 + i
            for _ in range(9):
                k, r = divmod(k, len(USCC_ALPHABET))
                body += USCC_ALPHABET[r]
            uscc = body + uscc_check_character(body)
            enterprise = Enterprise.objects.filter(uscc=uscc).first() or Enterprise.objects.create(
                uscc=uscc,
                name=f"衡阳基准测试跨境电商有限公司{i}",
                entity_type="enterprise",
                district=district,
                registered_address="衡阳市",
                legal_representative="张三",
                contact_name="李四",
                contact_phone="13800000000",
                bank_name="中国银行",
                bank_account=f"6217{i:015d}",
            )
            enterprises.append(enterprise)
        missing = n - have
        base = Application.objects.count()
        rows = [
            Application(
                enterprise=enterprises[i % 100],
                measure=measure,
                year=2026,
                scope_key=f"bench-{base + i}",
                state=State.SUBMITTED,
                reference=f"HY-BENCH-{base + i:07d}",
                declared_facts={"cbec_export_volume_usd": "600000"},
                estimate_cny=Decimal("100000.00"),
                submitted_at=now - timedelta(minutes=base + i),
                submitted_by=submitter,
                created_by=submitter,
            )
            for i in range(missing)
        ]
        Application.objects.bulk_create(rows, batch_size=1000)
    return user


def request_for(user, path: str):
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionBase()
    request._messages = FallbackStorage(request)
    return request


def median_ms(view, user, path: str, runs: int) -> tuple[float, int]:
    for _ in range(5):  # warm caches (catalogue, templates, roles)
        view(request_for(user, path))
    timings = []
    size = 0
    for _ in range(runs):
        request = request_for(user, path)
        if hasattr(user, "_portal_roles"):
            del user._portal_roles  # a fresh request loads the roles again
        start = time.perf_counter()
        response = view(request)
        timings.append((time.perf_counter() - start) * 1000)
        size = len(response.content)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    user = ensure_data(args.n)
    total = Application.objects.count()
    print(f"database: {connection.vendor}, applications: {total}")
    queue_ms, queue_bytes = median_ms(
        commerce_queue, user, "/staff/queue/commerce/?tab=submitted", args.runs
    )
    bare_ms, bare_bytes = median_ms(BareList.as_view(), user, "/bench/", args.runs)
    print(f"commerce queue: {queue_ms:.1f} ms ({queue_bytes} bytes)")
    print(f"bare ListView:  {bare_ms:.1f} ms ({bare_bytes} bytes)")
    print(f"ratio: {queue_ms / bare_ms:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
