from django.db import models
from django.utils.translation import gettext_lazy as _


class Counter(models.Model):
    """The last number given in one series and year.

    Incremented under a row lock in the transaction that uses the number, so numbers are
    consecutive (a rolled-back transaction rolls its number back too) and never reused.
    """

    series = models.CharField(_("series"), max_length=40)
    year = models.PositiveIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number counter")
        verbose_name_plural = _("number counters")
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="counter_series_year")
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last}"
