"""The two commands: what `make run` and `make test` execute, in which order (make's dry run)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(*args: str) -> list[str]:
    """The commands make would run for a target, without running them."""
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


def position(commands: list[str], fragment: str) -> int:
    return next(i for i, command in enumerate(commands) if fragment in command)


def test_make_test_lints_then_runs_the_whole_suite_with_the_callers_arguments():
    commands = planned("test", "PYTEST_ARGS=--create-db -k smoke")
    lint = position(commands, "ruff check .")
    formatted = position(commands, "ruff format --check .")
    pytest_run = position(commands, "-m pytest --create-db -k smoke")
    assert position(commands, "compilemessages") < lint < formatted < pytest_run
    assert position(commands, "-r requirements-dev.txt") < lint


def test_make_run_migrates_loads_the_catalogue_and_the_demo_before_serving():
    commands = planned("run", "HOST=0.0.0.0", "PORT=8123")
    steps = [
        position(commands, "scripts/install-system-packages"),
        position(commands, "-r requirements.txt"),
        position(commands, "compilemessages"),
        position(commands, "manage.py migrate --noinput"),
        position(commands, "manage.py load_policy"),
        position(commands, "manage.py seed_demo"),
        position(commands, "manage.py runserver 0.0.0.0:8123"),
    ]
    assert steps == sorted(steps)


def test_ci_script_is_valid_bash_and_runs_make_test_against_the_services():
    script = ROOT / ".ci" / "run"
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    commands = [line.strip() for line in script.read_text(encoding="utf-8").splitlines()]
    run = commands.index("make test")
    for variable in ("DATABASE_URL", "REDIS_URL", "REQUIRE_SERVICES"):
        assert position(commands, f"export {variable}=") < run


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, f"{name}: {line} is not pinned"
