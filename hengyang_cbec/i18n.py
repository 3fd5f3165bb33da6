from django.utils.translation import get_language


def english_active() -> bool:
    """True when the page is in English; Chinese is the default for everything else."""
    return (get_language() or "zh-hans").startswith("en")
