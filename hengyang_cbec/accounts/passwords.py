"""The password rule of MLPS level 3 that Django does not ship: several character classes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    """How many of lower-case letters, upper-case letters, digits and other characters occur."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class CharacterClassValidator:
    """At least `minimum` of the four classes: lower case, upper case, digits, other characters.

    Chinese characters count as "other characters" (they are neither upper nor lower case).
    """

    def __init__(self, minimum: int = 3):
        self.minimum = minimum

    def validate(self, password: str, user=None) -> None:
        if character_classes(password) < self.minimum:
            raise ValidationError(self.get_error_message(), code="password_too_simple")

    def get_error_message(self) -> str:
        return _(
            "This password is too simple. Use at least %(minimum)d of: lower-case letters, "
            "upper-case letters, digits and other characters."
        ) % {"minimum": self.minimum}

    def get_help_text(self) -> str:
        return _(
            "Your password must use at least %(minimum)d of: lower-case letters, upper-case "
            "letters, digits and other characters."
        ) % {"minimum": self.minimum}


_LEET = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"}
)


def _variants(password: str) -> set[str]:
    lowered = password.lower()
    letters = "".join(c for c in lowered if c.isalpha())
    deleet = lowered.translate(_LEET)
    stripped = {
        text.strip("0123456789!@#$%^&*()-_=+.,;:?/ ")
        for text in (lowered, deleet, lowered.rstrip("0123456789"), deleet.rstrip("0123456789"))
    }
    return {v for v in {lowered, letters, deleet, *stripped} if len(v) >= 4}


class CommonVariantValidator:
    """Refuse a common password dressed up: capitals, l33t substitutions, digits or a year added.

    Django's CommonPasswordValidator knows "password" but accepts "P@ssw0rd2025"; this one checks
    the same list (about 20,000 passwords) against the password's undressed variants.
    """

    def __init__(self):
        from django.contrib.auth.password_validation import CommonPasswordValidator

        self.passwords = CommonPasswordValidator().passwords

    def validate(self, password: str, user=None) -> None:
        if _variants(password) & self.passwords:
            raise ValidationError(self.get_error_message(), code="password_too_common")

    def get_error_message(self) -> str:
        return _("This password is a common password with a few characters changed.")

    def get_help_text(self) -> str:
        return _("Your password can’t be a common password with a few characters changed.")


def _django_messages_for_translation() -> None:
    """Django 5.2 changed this message and its Chinese catalogue lacks it; ours translates it."""
    from django.utils.translation import ngettext

    ngettext(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        1,
    )
