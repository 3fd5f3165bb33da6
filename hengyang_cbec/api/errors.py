"""Errors of the API: JSON `{code, detail, detail_en}` with a translated message, never a 500 for
bad input. `detail` is in the request's language (Chinese unless the language cookie says English),
`detail_en` in English for the logs of the calling system."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError, HttpError, ValidationError

# What each status says when nothing more precise is known.
_GENERIC = {
    400: ("bad_request", _("The request cannot be read.")),
    401: ("no_key", _("This endpoint needs a valid API key in the X-API-Key header.")),
    403: ("forbidden", _("This API key may not use this endpoint.")),
    404: ("not_found", _("Nothing was found at this address.")),
    405: ("method_not_allowed", _("This method is not allowed here.")),
    409: ("conflict", _("The request conflicts with the current state.")),
    429: ("too_many_requests", _("Too many requests: wait a minute and try again.")),
}


def both(message, params: dict[str, Any]) -> tuple[str, str]:
    """A lazy message with its placeholders filled, in Chinese and in English."""
    with translation.override("zh-hans"):
        zh = str(message) % params
    with translation.override("en"):
        en = str(message) % params
    return zh, en


class ApiError(HttpError):
    """An error with a stable `code` and a translatable message (lazy or a (zh, en) pair)."""

    def __init__(self, status: int, code: str, message: Any = None, **extra: Any) -> None:
        self.code = code
        self.text = message if message is not None else _GENERIC[status][1]
        self.extra = extra
        super().__init__(status, str(self.text))

    def body(self) -> dict[str, Any]:
        if isinstance(self.text, tuple):
            zh, en = self.text
            detail = en if translation.get_language() == "en" else zh
        else:
            detail = str(self.text)
            with translation.override("en"):
                en = str(self.text)
        return {"code": self.code, "detail": detail, "detail_en": en, **self.extra}


def install(api) -> None:
    """Answer every error of `api` as JSON with a translated message."""

    def respond(request, error: ApiError):
        response = api.create_response(request, error.body(), status=error.status_code)
        if error.status_code == 429:
            response["Retry-After"] = "60"
        return response

    @api.exception_handler(ApiError)
    def _api_error(request, exc: ApiError):
        return respond(request, exc)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return respond(request, ApiError(401, "no_key"))

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            return respond(
                request, ApiError(400, "bad_json", _("The request body is not valid JSON."))
            )
        code, message = _GENERIC.get(exc.status_code, ("error", _("The request failed.")))
        return respond(request, ApiError(exc.status_code, code, message))

    @api.exception_handler(ValidationError)
    def _invalid(request, exc: ValidationError):
        fields = [
            ".".join(str(part) for part in error.get("loc", ()) if part not in {"body", "query"})
            for error in exc.errors
        ]
        return respond(
            request,
            ApiError(
                400,
                "invalid",
                both(
                    _("Some values are missing or malformed: %(fields)s."),
                    {"fields": ", ".join(f for f in fields if f) or "—"},
                ),
                fields=fields,
            ),
        )

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return respond(request, ApiError(404, "not_found"))
