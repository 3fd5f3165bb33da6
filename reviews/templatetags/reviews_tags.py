from django import template

register = template.Library()


@register.filter
def lookup(mapping, key):
    """mapping[key], or the key itself when the mapping does not know it."""
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key
