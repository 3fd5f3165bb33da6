from django import template

from hengyang_cbec.formatting import number

register = template.Library()


@register.filter
def money(value) -> str:
    """Two decimals and thousands separators (100,000.00) from a Decimal or its text, no float."""
    return number(value)
