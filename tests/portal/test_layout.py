"""The portal's shape: it imports nothing from the site generator (what both read lives in
``portal.policy`` and ``translations``), and no domain module asks which processor is set."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"
MODULES = sorted(PORTAL.rglob("*.py"))


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PORTAL)))
def test_the_portal_imports_nothing_from_the_site_generator(path):
    assert not [name for name in imported(path) if name.split(".")[0] == "sitegen"]


def test_only_the_factory_and_the_settings_know_which_processor_is_configured():
    asking = [str(p.relative_to(PORTAL)) for p in MODULES
              if "CARD_PROCESSOR" in p.read_text() or "CRYPTO_PROCESSOR" in p.read_text()]
    assert asking == ["config.py"]


def test_every_money_movement_is_posted_by_the_postings_module():
    posting = [str(p.relative_to(PORTAL)) for p in MODULES if "ledger.post(" in p.read_text()]
    assert posting == ["money/postings.py"]
