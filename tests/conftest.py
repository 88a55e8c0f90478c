"""Fixtures shared by every folder of tests: the policy site built once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The portal's fixtures (databases, apps, people), for tests/portal and tests/jobs.
pytest_plugins = ["tests.portal.fixtures"]


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The real policy site (``python build.py --out DIR``), built once for the portal's
    tests, in the test client and in the browser."""
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "build.py", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    return out
