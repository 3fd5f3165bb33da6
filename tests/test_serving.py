"""The production serving setup (deploy/): slow clients do not stall the configured gunicorn, and
nginx lets through exactly the uploads the portal accepts."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from benchmarks.slow_clients import CONFIG, gunicorn, probes_under_loris

ROOT = Path(__file__).resolve().parents[1]


def test_slow_clients_do_not_stall_the_configured_gunicorn(tmp_path):
    # Twelve slow-loris connections stalled the site with 4 sync workers (0 of 8 probes answered).
    with gunicorn(
        tmp_path, "-c", str(CONFIG), env={"GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "8"}
    ) as port:
        results = probes_under_loris(port, loris=12, seconds=5)
    assert len(results) >= 10
    assert all(result is not None for result in results), results  # each answered within 1 s


def test_nginx_takes_the_largest_upload_the_portal_accepts_and_not_much_more():
    conf = (ROOT / "deploy/nginx/hengyang-cbec.conf").read_text()
    megabytes = int(re.search(r"^\s*client_max_body_size (\d+)m;", conf, re.M).group(1))
    limit = megabytes * 1024 * 1024
    assert settings.UPLOAD_MAX_BYTES < limit <= settings.UPLOAD_MAX_BYTES + 2 * 1024 * 1024
    assert re.search(r"^\s*proxy_request_buffering on;", conf, re.M)
    assert re.search(r"^\s*client_header_timeout \d+s;", conf, re.M)


def test_the_gunicorn_configuration_uses_threads_and_timeouts():
    namespace: dict = {}
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), namespace)  # noqa: S102 - our own file
    assert namespace["worker_class"] == "gthread"
    assert namespace["threads"] >= 4
    assert 0 < namespace["keepalive"] <= 15
    assert namespace["timeout"] <= 120
    assert namespace["wsgi_app"] == settings.WSGI_APPLICATION.replace(
        ".application", ":application"
    )
