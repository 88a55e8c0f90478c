"""What the README tells a newcomer works as written: the settings of ``make run``, the
commands run from the checkout with no virtual environment active, and the demo setting
that makes wait windows short enough to try a failed-SMS refund within a minute."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from portal import config as settings
from portal.store import db
from portal.store.models import Service
from portal_testing import run_cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def make_run_settings() -> set[str]:
    """The ``?=`` variables of the Makefile that its ``run`` target reads."""
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    return {name for name in re.findall(r"^(\w+) \?=", makefile, re.M) if f"$({name})" in run}


def test_every_setting_of_make_run_is_in_the_readme():
    found = make_run_settings()
    assert found == {"HOST", "PORT", "WORKERS", "JOB_WORKERS"}
    for name in found:
        assert re.search(rf"^\| `{name}` \|", README, re.M), f"README does not document {name}"


def test_the_readmes_ledger_check_runs_with_no_virtual_environment_active(tmp_path, site_dir):
    command = next(line.split("#")[0].split() for line in README.splitlines()
                   if "ledger-check" in line and line.startswith(".venv/"))
    assert command[0] == ".venv/bin/python"  # the venv's own interpreter: no activation needed
    if not (ROOT / command[0]).exists():  # a checkout whose .venv lives elsewhere (a worktree)
        command[0] = sys.executable
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SITE_DIR": site_dir,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}", "SECRET_KEY": "readme"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ledger-check: ok" in done.stdout


def test_the_demo_wait_setting_makes_every_window_short(app):
    app.config["DEMO_WAIT_SECONDS"] = 30
    with app.app_context():  # as `flask` gives its commands
        assert run_cli(app, "seed-demo").exit_code == 0
    with db.connection():
        assert {service.wait_seconds for service in Service.select()} == {30}
        assert Service.select().count() == 15


def test_without_the_setting_the_catalogs_windows_stay(app):
    with app.app_context():
        assert run_cli(app, "seed-demo").exit_code == 0
    with db.connection():
        assert min(service.wait_seconds for service in Service.select()) >= 600


@pytest.mark.parametrize("raw, expected", [("30", 30), ("", 0), ("0", 0)])
def test_the_demo_wait_setting_is_read_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("PORTAL_DEMO_WAIT_SECONDS", raw)
    assert settings.load({"SECRET_KEY": "x"})["DEMO_WAIT_SECONDS"] == expected


@pytest.mark.parametrize("raw", ["abc", "-5", "1.5", "١٢", "999999"])
def test_a_bad_demo_wait_setting_is_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_DEMO_WAIT_SECONDS", raw)
    with pytest.raises(RuntimeError, match="PORTAL_DEMO_WAIT_SECONDS must be a whole number of seconds"):
        settings.load({"SECRET_KEY": "x"})


@pytest.mark.parametrize("raw", ["abc", "59", "2592001"])
def test_a_bad_session_lifetime_is_refused_by_name(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_SESSION_MAX_SECONDS", raw)
    with pytest.raises(RuntimeError, match="PORTAL_SESSION_MAX_SECONDS must be a whole number of seconds from 60 to 2592000"):
        settings.load({"SECRET_KEY": "x"})


def test_the_session_lifetime_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORTAL_SESSION_MAX_SECONDS", "3600")
    assert settings.load({"SECRET_KEY": "x"})["SESSION_MAX_SECONDS"] == 3600
