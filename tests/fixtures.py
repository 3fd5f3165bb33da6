"""Personas, the loaded catalogue and browser fixtures for the whole suite (a pytest plugin)."""

from __future__ import annotations

import copy
import functools

import pytest

from hengyang_cbec.accounts.roles import Role
from tests.factories import PASSWORD, make_user

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@functools.cache
def _parsed_catalogue_files() -> list:
    from policies.services import read_catalogue_files

    return read_catalogue_files()


def catalogue_files() -> list:
    """The catalogue's YAML files, parsed once per test process (about a second each time).

    Tests that flush the database (browser tests, transactional tests) load the catalogue again
    before each test; they load it from this copy instead of reading the files again.
    """
    return copy.deepcopy(_parsed_catalogue_files())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the policy catalogue once into the test database (tests roll back around it)."""
    from policies.services import load_catalogue

    with django_db_blocker.unblock():
        load_catalogue(catalogue_files())


@pytest.fixture
def catalogue(db):
    """The policy catalogue loaded from the files into the test database (once per database)."""
    from policies.models import Policy
    from policies.services import current_catalogue, load_catalogue

    if not Policy.objects.exists():
        load_catalogue(catalogue_files())
        from policies.services import bump_catalogue_version

        bump_catalogue_version()
    return current_catalogue()


@pytest.fixture
def renewal(catalogue, tmp_path):
    """The sample renewal HY-CBEC-2027 (a test fixture, never loaded in production) loaded next
    to HY-CBEC-2025 for one test; see policies/tests/renewal.py."""
    from policies.services import bump_catalogue_version
    from policies.tests.renewal import load_renewal

    load_renewal(tmp_path)
    yield
    # The test's transaction is rolled back: make every process forget the renewal.
    bump_catalogue_version()


@pytest.fixture
def eager_tasks():
    """Celery tasks run in the calling process, also when REDIS_URL points at a real broker.

    For tests of what a task does; the tests of the real worker start one instead.
    """
    from hengyang_cbec.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Rate-limit and lockout counters start at zero in every test (they live in the cache)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _staff_sessions_gave_their_code(request):
    """A session that `client.login`/`force_login` opens for staff counts as having given a code.

    Those helpers skip the login page, so the second factor is assumed passed for tests of other
    behaviour. Tests of the second factor itself are marked `real_second_factor` (and log in
    through the login page, which never opens a session before the code is given).
    """
    if request.node.get_closest_marker("real_second_factor") is not None:
        yield
        return
    from django.contrib.auth.signals import user_logged_in
    from django_otp import DEVICE_ID_SESSION_KEY

    def verified(sender, request, user, **kwargs):
        from hengyang_cbec.accounts import second_factor

        if request is None or DEVICE_ID_SESSION_KEY in request.session:
            return
        if not second_factor.required_for(user):
            return
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = second_factor.confirmed_device(user) or TOTPDevice.objects.create(
            user=user, name="test", confirmed=True
        )
        request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id

    user_logged_in.connect(verified, dispatch_uid="tests.staff_verified")
    yield
    user_logged_in.disconnect(dispatch_uid="tests.staff_verified")


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def applicant(db):
    return make_user(Role.APPLICANT, username="applicant")


@pytest.fixture
def commerce_reviewer(db):
    return make_user(Role.COMMERCE_REVIEWER, username="reviewer")


@pytest.fixture
def outsider(db):
    """Logged in, but holds no role at all."""
    return make_user(username="outsider")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login(page, live_server):
    """Log a user in through the real login form."""

    def _login(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("main form button[type=submit]")
        page.wait_for_load_state("networkidle")
        if "/accounts/code/" in page.url:
            enter_code(page, username)

    return _login


def enter_code(page, username: str) -> None:
    """Give the second factor as a person would: the code the authenticator app computes.

    A staff member without a device is shown the QR code and its key: the key is read from the page
    (as an app reads the QR code) and the code computed from it; otherwise the device's own key.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from hengyang_cbec.accounts import second_factor

    secret = page.locator("#totp-secret")
    if secret.count():
        import base64

        text = secret.inner_text().replace(" ", "")
        key = base64.b32decode(text + "=" * (-len(text) % 8))
        device = TOTPDevice(key=key.hex())
    else:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        # A code is accepted once: a second login within the same time step waits for the next
        # code, as a person watching the authenticator app would.
        import time

        def step_now() -> int:
            return int((time.time() - device.t0) // device.step) + device.drift

        deadline = time.monotonic() + device.step + 5
        while device.last_t >= step_now() and time.monotonic() < deadline:
            time.sleep(0.5)
    page.fill("input[name=code]", second_factor.current_code(device))
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    if "/accounts/recovery-codes/" in page.url:
        page.click("main a.btn-primary")
        page.wait_for_load_state("networkidle")


@pytest.fixture(scope="session")
def real_clamd(tmp_path_factory):
    """A private clamd (scripts/test-clamd) whose only signature is EICAR's; its CLAMD_URL.

    Tests using it are marked `clamd`. Stopped at the end of the session.
    """
    import subprocess
    import time
    from pathlib import Path

    from applications.clamav import ClamdClient, ClamdError

    directory = tmp_path_factory.mktemp("clamd")
    script = Path(__file__).resolve().parent.parent / "scripts" / "test-clamd"
    process = subprocess.Popen(
        [str(script), str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"unix://{directory / 'clamd.sock'}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if ClamdClient(url, timeout=2).ping():
                break
        except ClamdError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = directory / "clamd.log"
            detail = log.read_text() if log.exists() else process.stderr.read().decode()
            pytest.fail(f"the test clamd did not start: {detail[-2000:]}")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)
