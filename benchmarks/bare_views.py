"""Bare Django views doing the work of the portal's pages: the same rows, columns and figures, in
the same base layout, written the plain way (a queryset, a loop, a template), with none of the
portal's own layers. Benchmarks only; `bench.py` compares each portal page with its twin here."""

from __future__ import annotations

import csv
import io

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.template import engines
from django.utils import timezone

from applications.models import Application, Membership
from applications.workflow import State
from policies.engine import Context, assess, precheck
from policies.models import Measure
from policies.services import current_versions
from reviews.forms import FailureForm, PaymentForm
from reviews.models import Award, DisbursementBatch, DisbursementLine
from reviews.numerals import amount_in_capitals


def _page(body: str):
    return engines["django"].from_string(
        '{% extends "base.html" %}{% load crispy_forms_tags %}{% block content %}'
        + body
        + "{% endblock %}"
    )


QUEUE = _page(
    """<h1>Queue</h1><p>{% for c in counts %}{{ c.state }} {{ c.n }} {% endfor %}</p>
<p>{{ page.paginator.count }}</p><table class="table"><tbody>{% for a in page %}<tr>
<td><a href="/staff/applications/{{ a.pk }}/">{{ a.reference }}</a></td><td>{{ a.enterprise.name }}
<div>{{ a.enterprise.uscc }}</div></td><td>{{ a.enterprise.district.name_zh }}</td>
<td>{{ a.measure.code }}</td><td>{{ a.year }}</td><td>{{ a.get_state_display }}</td>
<td>{{ a.estimate_cny|floatformat:"2g" }}</td><td>{{ a.submitted_at|date:"Y-m-d" }}</td></tr>
{% endfor %}</tbody></table>"""
)


def queue(request):
    rows = Application.objects.filter(state=State.SUBMITTED)
    if request.GET.get("measure"):
        rows = rows.filter(measure__code=request.GET["measure"])
    if request.GET.get("district"):
        rows = rows.filter(enterprise__district__code=request.GET["district"])
    rows = rows.select_related("enterprise__district", "measure").order_by("submitted_at", "pk")
    counts = (
        Application.objects.filter(state__in=[State.SUBMITTED, State.COMMERCE_REVIEW])
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return HttpResponse(QUEUE.render({"page": page, "counts": counts}, request))


BATCH = _page(
    """<h1>{{ batch.number }}</h1><p>{{ totals.total }} {{ totals.paid }}</p>
<form method="post">{% csrf_token %}{{ payment_form|crispy }}</form>
<form method="post">{% csrf_token %}{{ failure_form|crispy }}</form>
<table class="table"><tbody>{% for line in page %}<tr><td>{{ line.sequence }}</td>
<td>{{ line.payee_name }}<div>{{ line.application_reference }}</div></td>
<td>{{ line.bank_name }} {{ line.masked_account }}</td><td>{{ line.measure_code }}</td>
<td>{{ line.amount_cny|floatformat:"2g" }}</td><td>{{ line.get_state_display }}</td>
<td><button name="line" value="{{ line.pk }}">Paid</button>
<button name="line" value="{{ line.pk }}">Failed</button></td></tr>{% endfor %}</tbody></table>"""
)


def batch(request, pk):
    batch = DisbursementBatch.objects.get(pk=pk)
    totals = batch.lines.aggregate(
        total=Sum("amount_cny"), paid=Sum("amount_cny", filter=Q(state="paid"))
    )
    page = Paginator(batch.lines.order_by("sequence"), 100).get_page(request.GET.get("page"))
    context = {
        "batch": batch,
        "totals": totals,
        "page": page,
        "payment_form": PaymentForm(initial={"paid_on": timezone.localdate()}),
        "failure_form": FailureForm(),
    }
    return HttpResponse(BATCH.render(context, request))


COLUMNS = [
    "sequence",
    "payee_name",
    "uscc",
    "bank_name",
    "bank_account",
    "amount_cny",
    "measure_code",
    "measure_title",
    "application_reference",
    "fund_source",
    "approval_document",
    "line_reference",
]


def _lines(pk):
    for row in (
        DisbursementLine.objects.filter(batch_id=pk)
        .order_by("sequence")
        .values_list(*COLUMNS)
        .iterator(chunk_size=2000)
    ):
        yield [*row[:6], amount_in_capitals(row[5]), *row[6:]]


def export_csv(request, pk):
    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    return StreamingHttpResponse(
        (writer.writerow(row) for row in _lines(pk)), content_type="text/csv; charset=utf-8"
    )


def export_xlsx(request, pk):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("lines")
    for row in _lines(pk):
        sheet.append(row)
    handle = io.BytesIO()
    book.save(handle)
    handle.seek(0)
    return FileResponse(handle, content_type="application/vnd.openxmlformats")


REVIEW = _page(
    """<h1>{{ a.reference }}</h1><p>{{ a.enterprise.name }} {{ a.enterprise.uscc }}
{{ a.enterprise.district.name_zh }} {{ a.measure.code }} {{ a.measure.title_zh }}
{{ a.get_state_display }}</p><table class="table">{% for k, v in a.declared_facts.items %}
<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table><p>{{ result.amount_cny }}</p>
<ol>{% for step in result.trace %}<li>{{ step.text }} {{ step.clause }}</li>{% endfor %}</ol>
{% for name, rows in related.items %}<h2>{{ name }}</h2><ul>{% for r in rows %}<li>{{ r }}</li>
{% endfor %}</ul>{% endfor %}<form method="post">{% csrf_token %}<select name="assignee">
{% for u in assignees %}<option value="{{ u.pk }}">{{ u.full_name }}</option>{% endfor %}
</select><textarea name="message"></textarea><button>Return</button><button>Reject</button>
<button>Approve</button></form>"""
)


def _facts(application):
    return {k: v for k, v in application.declared_facts.items() if v is not None}


def review(request, pk):
    """The same records the review page reads (the application, its evidence, assessments,
    awards, budgets, co-review, objections, assignments, decisions, the enterprise's earlier
    awards and the stage's reviewers) and the engine's result, listed plainly."""
    from hengyang_cbec.accounts.models import User
    from policies.engine import PriorAward
    from reviews.models import BudgetAllocation

    application = Application.objects.select_related(
        "enterprise__district", "measure", "policy"
    ).get(pk=pk)
    earlier = Award.objects.filter(
        application__enterprise=application.enterprise, status__in=["committed", "fixed"]
    ).exclude(application=application)
    priors = tuple(
        PriorAward(code, year, amount)
        for code, year, amount in earlier.values_list(
            "application__measure__code", "application__year", "amount_cny"
        )
    )
    context = Context(
        on_date=application.reference_date or timezone.localdate(), prior_awards=priors
    )
    result = assess(current_versions(), application.measure.code, _facts(application), context)
    related = {
        "evidence": list(application.evidence.all()),
        "assessments": list(application.assessments.order_by("-created_at")[:5]),
        "awards": list(application.awards.select_related("fund_source", "allocation")),
        "budgets": list(BudgetAllocation.objects.select_related("fund_source")),
        "co-review": list(application.coreview_requests.all()),
        "objections": list(application.objections.all()),
        "assignments": list(application.assignments.select_related("assignee")),
        "decisions": list(application.review_decisions.select_related("actor")),
    }
    assignees = User.objects.filter(groups__name="commerce_reviewer", is_active=True)
    return HttpResponse(
        REVIEW.render(
            {
                "a": application,
                "result": result.to_dict("zh-hans"),
                "related": related,
                "assignees": assignees,
            },
            request,
        )
    )


CALCULATOR = _page(
    """<h1>{{ measure.code }} {{ measure.title_zh }}</h1><div>{{ measure.article_zh }}</div>
<form>{{ form.as_div }}</form><p>{{ result.amount_cny }}</p><ol>{% for step in result.trace %}
<li>{{ step.text }} {{ step.clause }}</li>{% endfor %}</ol>"""
)


def calculator(request, code):
    """The same form (the portal's FactsForm, Django's own rendering) and the engine's result."""
    from policies.forms import FactsForm

    catalogue = current_versions().choose(timezone.localdate()).catalogue
    measure = Measure.objects.get(policy__code=catalogue.policy_code, code=code)
    form = FactsForm(request.GET, catalogue=catalogue, measure_code=code, applicant=True)
    result = None
    if form.is_valid():
        context = Context(on_date=timezone.localdate())
        result = assess(catalogue, code, form.engine_facts(), context).to_dict("zh-hans")
    return HttpResponse(
        CALCULATOR.render({"measure": measure, "form": form, "result": result}, request)
    )


DASHBOARD = _page(
    """<h1>{{ enterprise.name }}</h1><ul>{% for m, r in measures %}<li>{{ m.code }}
{{ m.title_zh }} {{ r.eligible }}</li>{% endfor %}</ul><table class="table">
{% for a in applications %}<tr><td>{{ a.reference }}</td><td>{{ a.measure.code }}</td>
<td>{{ a.get_state_display }}</td><td>{{ a.estimate_cny }}</td></tr>{% endfor %}</table>
<ul>{% for n in notifications %}<li>{{ n }}</li>{% endfor %}</ul>"""
)


def dashboard(request):
    membership = Membership.objects.select_related("enterprise").get(
        user=request.user, status="active"
    )
    enterprise = membership.enterprise
    today = timezone.localdate()
    catalogue = current_versions().choose(today).catalogue
    from hengyang_cbec.notifications.models import Notification
    from policies.engine import PriorAward

    priors = tuple(
        PriorAward(code, year, amount)
        for code, year, amount in Application.objects.filter(
            enterprise=enterprise, state__in=[State.APPROVED, State.DISBURSED]
        )
        .exclude(approved_amount_cny=None)
        .values_list("measure__code", "year", "approved_amount_cny")
    )
    context = Context(on_date=today, prior_awards=priors)
    general = enterprise.general_facts()
    measures = [
        (m, precheck(catalogue, m.code, general, context))
        for m in Measure.objects.filter(policy__code=catalogue.policy_code)
        if enterprise.entity_type in m.entity_types
    ]
    applications = (
        Application.objects.filter(enterprise=enterprise)
        .select_related("measure")
        .order_by("-updated_at")[:10]
    )
    return HttpResponse(
        DASHBOARD.render(
            {
                "enterprise": enterprise,
                "measures": measures,
                "applications": applications,
                "notifications": Notification.objects.filter(user=request.user, read_at=None)[:5],
            },
            request,
        )
    )


REPORTS = _page(
    """{% for name, rows in tables.items %}<h2>{{ name }}</h2><table class="table">
{% for row in rows %}<tr>{% for v in row.values %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endfor %}"""
)


def reports(request):
    """The same figures as the portal's reports (the current year), the plain way."""
    from django.db.models import Avg, DurationField, ExpressionWrapper, F
    from django.db.models.functions import TruncDate

    year = timezone.localdate().year
    apps = Application.objects.exclude(state=State.DRAFT).exclude(submitted_at=None)
    apps = apps.filter(year=year)
    awards = Award.objects.filter(status__in=["committed", "fixed"], application__year=year)
    lines = DisbursementLine.objects.filter(state="paid", award__application__year=year)
    approved = Q(state__in=[State.APPROVED, State.DISBURSED])
    tables = {}
    for key, label in (
        ("measure__code", "measure__title_zh"),
        ("enterprise__district__code", "enterprise__district__name_zh"),
    ):
        tables[key] = list(
            apps.values(key, label)
            .annotate(
                n=Count("pk"),
                ok=Count("pk", filter=approved),
                no=Count("pk", filter=Q(state="rejected")),
            )
            .order_by(key)
        )
        tables[key + "_committed"] = list(
            awards.values("application__" + key).annotate(s=Sum("amount_cny")).order_by()
        )
        tables[key + "_paid"] = list(
            lines.values("award__application__" + key).annotate(s=Sum("amount_cny")).order_by()
        )
    tables["fund"] = list(
        awards.values("fund_source__code", "fund_source__name_zh").annotate(s=Sum("amount_cny"))
    )
    tables["fund_paid"] = list(
        lines.values("award__fund_source__code").annotate(s=Sum("amount_cny")).order_by()
    )
    tables["month_applications"] = list(
        apps.annotate(m=TruncMonth("submitted_at")).values("m").annotate(n=Count("pk"))
    )
    tables["month_committed"] = list(
        awards.exclude(committed_at=None)
        .annotate(m=TruncMonth("committed_at"))
        .values("m")
        .annotate(s=Sum("amount_cny"))
    )
    tables["month_paid"] = list(
        lines.annotate(m=TruncMonth("paid_on")).values("m").annotate(s=Sum("amount_cny"))
    )
    days = DurationField()
    tables["averages"] = [
        awards.filter(status="fixed").aggregate(
            d=Avg(ExpressionWrapper(F("fixed_at") - F("application__submitted_at"), days))
        ),
        lines.aggregate(
            d=Avg(
                ExpressionWrapper(
                    F("paid_on") - TruncDate("award__application__submitted_at"), days
                )
            )
        ),
    ]
    return HttpResponse(REPORTS.render({"tables": tables}, request))
