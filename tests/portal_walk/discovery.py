"""The portal's routes read from the URLconf, which of them take a POST or answer a file, and
forms as a browser submits them."""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass
from html.parser import HTMLParser

from django.urls import URLPattern, URLResolver, get_resolver

# --- Forms as a browser submits them ---


class FormFields(HTMLParser):
    """The name/value pairs a browser submits for one form of a page: the form with this id, or
    the one whose action is this path."""

    def __init__(self, form_id: str | None = None, action: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.action = form_id, action
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_multiple = False
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = (
                attributes.get("id") == self.form_id
                if self.form_id
                else attributes.get("action") == self.action
            )
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            self.pairs.append((name, attributes.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_multiple = name, "multiple" in attributes
            self._select_first, self._select_chosen = None, False
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attributes:
                self.pairs.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and not self._select_multiple and self._select_first:
                self.pairs.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def submitted_form(html: str, *, form_id: str | None = None, action: str | None = None):
    """{name: [values]} as a browser submits the form unchanged."""
    parser = FormFields(form_id, action)
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    return data


# --- Discovery ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: str  # the path pattern, e.g. "staff/applications/<int:pk>/take/"
    methods: frozenset[str]
    params: tuple[str, ...]  # the names of its path converters


def _methods(view) -> frozenset[str]:
    """The methods a view answers: its class's handlers, its require_http_methods list, or (for a
    plain function) POST when its code reads the request body."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return frozenset(m.upper() for m in view_class.http_method_names if hasattr(view_class, m))
    allowed: set[str] | None = None
    source = ""
    function = view
    while function is not None:
        for cell in getattr(function, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if (
                isinstance(value, list | tuple | set | frozenset)
                and value
                and all(isinstance(item, str) and item.isupper() for item in value)
            ):
                allowed = set(value) if allowed is None else allowed & set(value)
        with contextlib.suppress(OSError, TypeError):  # a builtin or generated function
            source += inspect.getsource(function)
        function = getattr(function, "__wrapped__", None)
    if allowed is not None:
        return frozenset(allowed)
    reads_body = any(token in source for token in ("request.POST", "request.FILES", '"POST"'))
    return frozenset({"GET", "POST"} if reads_body else {"GET"})


def portal_routes() -> list[Route]:
    """Every routed portal view (the admin has its own walk), first pattern of each name."""
    routes: dict[str, Route] = {}

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                path = prefix + str(entry.pattern)
                if path.startswith("admin/") or name in routes:
                    continue
                routes[name] = Route(
                    name,
                    path,
                    _methods(entry.callback),
                    tuple(entry.pattern.converters),
                )

    walk(get_resolver().url_patterns, "", None)
    return list(routes.values())


def post_routes() -> list[Route]:
    return [route for route in portal_routes() if "POST" in route.methods]


_FILE_ANSWERS = (
    "FileResponse(",
    "StreamingHttpResponse(",
    "file_download(",  # hengyang_cbec.downloads: the one way a file leaves
    "content_disposition(",  # any response named as an attachment
    "serve_evidence(",
    "_file_response(",
)


def download_routes() -> list[str]:
    """The names of the routes whose view answers with a file (read from the views' code)."""
    from django.urls import get_resolver

    names = []
    for route in portal_routes():
        view = get_resolver().resolve(_sample_path(route)).func
        source = ""
        while view is not None:
            with contextlib.suppress(OSError, TypeError):
                source += inspect.getsource(view)
            view = getattr(view, "__wrapped__", None)
        if any(token in source for token in _FILE_ANSWERS):
            names.append(route.name)
    return names


def _sample_path(route: Route) -> str:
    """A path that resolves to the route (1 for each int, "x" for each str converter)."""
    import re

    return "/" + re.sub(
        r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", route.pattern
    )


# POSTs that change nothing security-relevant: no audit event is expected (each says why).
