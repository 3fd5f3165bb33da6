"""Browser tests look the way a person looks: each step is photographed and checked by axe-core.

`look("step")` writes a full-page screenshot to var/screenshots/<test>/<nn>-<step>.png (ignored by
git, for whoever reviews a change), runs axe-core (the copy bundled with axe-playwright-python: no
CDN at test time) and fails on any critical or serious violation. Each page's counts are appended to
var/screenshots/axe.tsv. At phone size it also fails when the page needs sideways scrolling.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
BLOCKING = ("critical", "serious")


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def axe_violations(axe, page) -> list[dict]:
    """The violations axe-core finds on the page as it is now (WCAG 2.x A and AA rules, best
    practices included)."""
    return axe.run(page).response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [node["target"] for node in violation["nodes"][:5]]
        lines.append(f"{violation['impact']} {violation['id']}: {violation['help']} at {targets}")
    return "\n".join(lines)


def scroll_overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


@pytest.fixture
def look(page, request, axe):
    """look(step): screenshot, axe-core (0 critical, 0 serious) and, on a phone, no sideways scroll.

    Returns the violation counts {"critical": n, "serious": n, ...} of the page."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)[:120]
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    steps = {"n": 0}

    def _look(step: str) -> dict[str, int]:
        page.wait_for_load_state("networkidle")
        steps["n"] += 1
        slug = re.sub(r"[^\w.-]+", "_", step).strip("_")
        name = f"{steps['n']:02d}-{slug}.png"
        page.screenshot(path=str(folder / name), full_page=True)
        violations = axe_violations(axe, page)
        counts = dict.fromkeys(("critical", "serious", "moderate", "minor"), 0)
        for violation in violations:
            counts[violation["impact"] or "minor"] += 1
        viewport = page.viewport_size or {}
        with (SCREENSHOTS / "axe.tsv").open("a", encoding="utf-8") as report:
            report.write(
                f"{request.node.name}\t{step}\t{page.url}\t{viewport.get('width')}\t"
                f"{counts['critical']}\t{counts['serious']}\n"
            )
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        if blocking:
            pytest.fail(f"axe on {step} ({page.url}):\n{describe(blocking)}", pytrace=False)
        if viewport.get("width", 0) <= PHONE["width"]:
            overflow = scroll_overflow(page)
            if overflow > 0:
                pytest.fail(f"{step} ({page.url}) scrolls sideways by {overflow}px", pytrace=False)
        return counts

    return _look


@pytest.fixture
def phone(page):
    """The same page at phone size (390×844)."""
    page.set_viewport_size(PHONE)
    return page
