"""The applicant's forms: sign-up, enterprise profile, joining, starting, evidence, declaration."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.accounts.models import User
from hengyang_cbec.i18n import english_active
from policies.forms import FactsForm
from policies.models import Place
from policies.services import current_catalogue

from .models import Application, Enterprise
from .services import application_catalogue, editable_fields
from .validators import validate_uscc

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
_ACCOUNT = re.compile(r"^[0-9]{8,32}$")


def validate_phone(value: str) -> None:
    if not _PHONE.match(value):
        raise ValidationError(_("Enter a phone number of digits (a leading + and spaces allowed)."))


def validate_bank_account(value: str) -> None:
    if not _ACCOUNT.match(value):
        raise ValidationError(_("A bank account number has 8 to 32 digits and nothing else."))


class SignUpForm(forms.Form):
    """The personal account. Whether the name or address is taken is never said here (the owner
    of the address is told by e-mail instead)."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only; you log in with it."),
    )
    full_name = forms.CharField(label=_("Your name"), max_length=100)
    email = forms.EmailField(
        label=_("E-mail address"), help_text=_("We send a link to confirm it.")
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password confirmation"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Enter the same password as before, for verification."),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            candidate = User(
                username=cleaned.get("username", ""),
                full_name=cleaned.get("full_name", ""),
                email=cleaned.get("email", ""),
                phone=cleaned.get("phone", ""),
            )
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class EnterpriseForm(forms.ModelForm):
    """The enterprise profile. The entity types come from the policy catalogue."""

    class Meta:
        model = Enterprise
        fields = (
            "name",
            "uscc",
            "entity_type",
            "district",
            "registered_address",
            "legal_representative",
            "contact_name",
            "contact_phone",
            "bank_name",
            "bank_account",
            "customs_code",
            *Enterprise.GENERAL_FACTS,
        )
        help_texts = {
            "uscc": _("18 characters, as on the business licence (统一社会信用代码)."),
            "bank_account": _("The account the award is paid into; digits only."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        catalogue = current_catalogue()
        english = english_active()
        self.fields["entity_type"] = forms.ChoiceField(
            label=_("Type of applicant"),
            choices=[
                (code, item.get("label_en" if english else "label_zh", code))
                for code, item in catalogue.entity_types.items()
            ],
        )
        self.fields["district"].queryset = Place.objects.all()
        self.fields["district"].label_from_instance = lambda place: place.name
        self.fields["contact_phone"].validators.append(validate_phone)
        self.fields["contact_phone"].widget.attrs.update(type="tel", inputmode="tel")
        self.fields["bank_account"].validators.append(validate_bank_account)
        self.fields["bank_account"].widget.attrs.update(inputmode="numeric", autocomplete="off")
        if self.instance.pk:
            # The code identifies the enterprise; it is never changed here.
            self.fields["uscc"].disabled = True
            # The stored account is never shown again in full (it is decrypted only for the bank
            # export and the masked display): the field starts empty, shows the last digits, and
            # left empty keeps the account.
            account = self.fields["bank_account"]
            account.required = False
            self.initial["bank_account"] = ""
            account.widget.attrs["placeholder"] = self.instance.masked_bank_account
            account.help_text = _(
                "The account the award is paid into; digits only. Leave it empty to keep the "
                "account ending %(last)s."
            ) % {"last": self.instance.bank_account[-4:]}

    def clean_bank_account(self):
        value = self.cleaned_data["bank_account"].strip()
        if not value and self.instance.pk:
            return self.instance.bank_account  # left empty: unchanged
        return value

    def clean_uscc(self):
        # A code registered already is not an error: the claim becomes a dispute
        # (applications/enterprises.py).
        value = self.cleaned_data["uscc"].strip()
        validate_uscc(value)
        return value

    def validate_unique(self):
        if self.instance.pk:
            super().validate_unique()


class ClaimDocumentsForm(forms.Form):
    """The documents that prove the right to represent the enterprise."""

    licence = forms.FileField(
        label=_("Business licence"),
        help_text=_("A scan or photo of the business licence (PDF, JPEG or PNG)."),
    )
    authorisation = forms.FileField(
        label=_("Authorisation letter"),
        help_text=_(
            "A letter naming you, the holder of this account, as the enterprise's administrator "
            "on this portal, signed by the legal representative and stamped with the company seal."
        ),
    )
    other = forms.FileField(
        label=_("Other evidence (optional)"),
        required=False,
        help_text=_("For example the legal representative's identity card or a board decision."),
    )
    statement = forms.CharField(
        label=_("Remarks for the Bureau of Commerce (optional)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, resubmission: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if resubmission:
            del self.fields["statement"]

    def documents(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ("licence", "authorisation", "other")}


class SensitiveChangeForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        help_text=_("Needed to change the bank details or the contact phone."),
    )


class JoinForm(forms.Form):
    uscc = forms.CharField(
        label=_("Unified social credit code of the enterprise"),
        max_length=18,
        min_length=18,
        validators=[validate_uscc],
    )


class StartForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Performance year"), coerce=int)
    scope_key = forms.CharField(
        label=_("Store or warehouse"),
        max_length=100,
        required=False,
        help_text=_("The store or overseas warehouse this application is for."),
    )

    def __init__(self, *args, years: list[int], scoped: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, str(year)) for year in years]
        if scoped:
            self.fields["scope_key"].required = True
        else:
            del self.fields["scope_key"]


class EvidenceForm(forms.Form):
    document_type = forms.CharField(widget=forms.HiddenInput)
    file = forms.FileField(label=_("File"))


class DeclarationForm(forms.Form):
    declared = forms.BooleanField(
        label=_(
            "I declare that the information and documents in this application are true, complete "
            "and accurate, and I accept legal liability for any false statement, including the "
            "return of funds obtained by false claims."
        ),
        required=True,
    )
    signer_name = forms.CharField(
        label=_("Name of the signer"),
        max_length=100,
        help_text=_("Type the full name of the person making this declaration."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), max_length=500, required=False, widget=forms.Textarea
    )


def application_form(application: Application, data=None, *, for_display=False) -> FactsForm:
    """The measure's facts form for this application, bound to its draft unless data is given.

    for_display: unbound and filled with the draft, so the page opens without "required" errors
    before anyone typed; the check page validates."""
    catalogue = application_catalogue(application)
    bound = (
        {"initial": application.draft_facts}
        if for_display
        else {"data": data if data is not None else application.draft_facts}
    )
    form = FactsForm(
        **bound,
        catalogue=catalogue,
        measure_code=application.measure.code,
        include_general=False,
        applicant=True,
    )
    allowed = editable_fields(application, form.fields)
    for name, field in form.fields.items():
        if name not in allowed:
            field.disabled = True
    if application.sourced_facts:
        from .entitlements import source_label

        for name, item in application.sourced_facts.items():
            if name in form.fields:
                form.fields[name].help_text = source_label(item, english_active())
    return form
