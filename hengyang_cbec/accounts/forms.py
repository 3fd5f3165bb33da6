from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from .models import User
from .roles import Role


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code your authenticator app shows now, or a recovery code."),
        # No numeric keypad: a recovery code has letters, and a phone's number pad cannot type
        # them (the enrolment form, which takes app codes only, keeps it).
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=6,
        min_length=6,
        help_text=_("The 6-digit code the app shows after you scan the QR code."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class _ClearsForcedChange:
    """Choosing one's own password ends a forced change."""

    def save(self, commit=True):
        self.user.must_change_password = False
        return super().save(commit=commit)


class OwnPasswordChangeForm(_ClearsForcedChange, PasswordChangeForm):
    pass


class OwnSetPasswordForm(_ClearsForcedChange, SetPasswordForm):
    pass


_GRANTABLE = [(role.value, role.label) for role in Role if role != Role.APPLICANT]


class RoleRequestForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=_GRANTABLE)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    # Grant or take away, said as two choices rather than a checkbox that turns a grant around.
    revoke = forms.TypedChoiceField(
        label=_("Action"),
        choices=[("", _("Grant the role")), ("on", _("Take the role away"))],
        coerce=bool,
        empty_value=False,
        required=False,
        initial="",
        widget=forms.RadioSelect,
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("No account has this username."))
        return user


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
