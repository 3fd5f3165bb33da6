"""The filters of the bureau's work queues, as django-filter sets (reusable by an API).

The URL parameters are the queue page's: `measure`, `district`, `year`, `state`, `assignee`
(`me`, `none` or a user id), `age` (`overdue` or a number of days), `proactive` (`yes`: the
免申即享 applications) and `sort`. A value that is
malformed or out of range filters nothing, as if it were absent; no parameter costs a query of
its own.
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.params import optional_int

from .models import Assignment, Entitlement, Stage

# An age filter beyond this many days (about a century) means "all": timedelta cannot hold more.
MAX_AGE_DAYS = 36_500
MAX_ID = 2**63 - 1
# The states in which the bureau itself is working on an application (overdue counts only there).
UNDER_REVIEW = frozenset({State.SUBMITTED, State.COMMERCE_REVIEW, State.FINANCE_REVIEW})

SORTS = {
    "age": ("submitted_at", "pk"),
    "-age": ("-submitted_at", "-pk"),
    "enterprise": ("enterprise__name", "pk"),
    "measure": ("measure__position", "submitted_at"),
    "amount": ("-estimate_cny", "pk"),
}
DEFAULT_SORT = "age"


class AsciiIntegerField(forms.CharField):
    """A whole number in ASCII digits within bounds (hengyang_cbec.params.optional_int)."""

    def __init__(self, *, minimum: int, maximum: int, **kwargs) -> None:
        self.minimum, self.maximum = minimum, maximum
        super().__init__(strip=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        number = optional_int(value, minimum=self.minimum, maximum=self.maximum)
        if number is None:
            message = forms.IntegerField.default_error_messages["invalid"]
            raise forms.ValidationError(message, code="invalid")
        return number


class YearFilter(django_filters.Filter):
    field_class = AsciiIntegerField


class QueueFilter(django_filters.FilterSet):
    """One queue's rows narrowed by the page's parameters and sorted.

    `stage` names the queue's stage (who holds the assignment); `request.user` answers
    `assignee=me`.
    """

    measure = django_filters.CharFilter(field_name="measure__code", strip=False)
    district = django_filters.CharFilter(field_name="enterprise__district__code", strip=False)
    year = YearFilter(field_name="year", minimum=2000, maximum=2100)
    state = django_filters.ChoiceFilter(choices=State.choices)
    assignee = django_filters.CharFilter(method="filter_assignee", strip=False)
    age = django_filters.CharFilter(method="filter_age", strip=False)
    # 免申即享: applications confirmed from an entitlement (figures verified at the source).
    proactive = django_filters.ChoiceFilter(choices=[("yes", "yes")], method="filter_proactive")
    sort = django_filters.ChoiceFilter(
        choices=[(key, key) for key in SORTS], method="keep", label=_("Sort")
    )

    class Meta:
        model = Application
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, stage: Stage, request=None, **kwargs) -> None:
        super().__init__(data, queryset, request=request, **kwargs)
        self.stage = stage

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        held = Assignment.objects.filter(application=OuterRef("pk"), stage=self.stage)
        if value == "me":
            user_id = getattr(getattr(self.request, "user", None), "pk", None)
            return queryset.filter(Exists(held.filter(assignee_id=user_id)))
        if value == "none":
            return queryset.filter(~Exists(held))
        if (assignee_id := optional_int(value, minimum=1, maximum=MAX_ID)) is not None:
            return queryset.filter(Exists(held.filter(assignee_id=assignee_id)))
        return queryset

    def filter_age(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        if value == "overdue":
            return queryset.filter(
                state__in=UNDER_REVIEW,
                submitted_at__lt=now - timedelta(days=settings.REVIEW_OVERDUE_DAYS),
            )
        if (days := optional_int(value, minimum=0, maximum=MAX_AGE_DAYS)) is not None:
            return queryset.filter(submitted_at__lt=now - timedelta(days=days))
        return queryset

    def filter_proactive(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "yes":
            return queryset.filter(Exists(Entitlement.objects.filter(application=OuterRef("pk"))))
        return queryset

    def keep(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Sorting is applied last, in filter_queryset, with its default."""
        return queryset

    @property
    def sort_key(self) -> str:
        """The chosen sort, or the default when none or an unknown one was asked for."""
        self.is_valid()
        return self.form.cleaned_data.get("sort") or DEFAULT_SORT

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset).order_by(*SORTS[self.sort_key])

    @property
    def active(self) -> dict[str, str]:
        """The parameters that took part, as given (the page shows them selected)."""
        self.is_valid()
        return {
            name: self.data[name]
            for name, value in self.form.cleaned_data.items()
            if name != "sort" and value not in django_filters.constants.EMPTY_VALUES
        }
