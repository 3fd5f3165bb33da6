import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChineseFirstLocaleMiddleware:
    """Activate the language the user chose (the language cookie), else Simplified Chinese.

    Django's LocaleMiddleware would follow the browser's Accept-Language; this portal is Chinese
    first, so a visitor sees Chinese until they switch, whatever their browser says.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class AbsoluteSessionTimeoutMiddleware:
    """Log out a session 12 hours after login however active it is, and end a session whose
    account was deactivated (SECURITY.md row 8).

    The idle timeout is SESSION_COOKIE_AGE renewed on every request; this is the other bound.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and not user.is_authenticated and SESSION_KEY in request.session:
            # The account behind this session was deactivated (or deleted): end the session, so
            # that reactivating the account does not bring it back (SECURITY.md row 8).
            request.session.flush()
        if user is not None and user.is_authenticated:
            started = request.session.setdefault("login_at", time.time())
            if time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)
