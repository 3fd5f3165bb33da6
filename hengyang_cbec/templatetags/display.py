"""Template filters over `hengyang_cbec.formatting`: `{% load display %}`, then e.g.
`{{ value|yes_no }}`, `{{ amount|cny }}`, `{{ value|fact:"cbec_export_volume_usd" }}`,
`{{ user|person }}`, `{{ event|event_sentence }}`, `{{ code|entity_type }}`."""

from __future__ import annotations

from django import template

from hengyang_cbec import formatting

register = template.Library()

register.filter("yes_no", formatting.yes_no)
register.filter("cny", formatting.cny)
register.filter("usd", formatting.usd)
register.filter("number", formatting.number)
register.filter("entity_type", formatting.entity_type)
register.filter("person", formatting.person)
register.filter("event_sentence", formatting.event_sentence)
register.filter("when", formatting.when)


@register.filter
def fact(value, name: str) -> str:
    """`{{ value|fact:name }}`: the fact's value formatted by its catalogue definition."""
    return formatting.fact_value(name, value)


@register.simple_tag
def colon() -> str:
    """The colon after a label: full-width "：" in Chinese, ": " in English."""
    return formatting.colon()


register.filter("quoted", formatting.quoted)
register.filter("action_label", formatting.action_label)
register.filter("catalogue_names", formatting.catalogue_names)
