"""Codes of the books in words: every ledger kind and every consent action has its text in
every language, and the statement and the account page show that text, linked to the
deposit or the rental it concerns, instead of the code."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.money import postings
from portal.web.records import CONSENT_ACTIONS, ENTRY_KINDS
from translations.catalog import TRANSLATIONS, languages
from card_refund_steps import refunded_deposit
from test_rentals_web import fund, rent, rented_ago, shop  # noqa: F401 (shop: a fixture)

ROOT = Path(__file__).resolve().parents[2]


def catalogs() -> dict[str, dict[str, str]]:
    found = {}
    for lang in languages():
        po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as handle:
                found[lang] = {m.id: m.string for m in read_po(handle, locale=lang) if m.id and not m.fuzzy}
    return found


def consent_actions_in_the_code() -> set[str]:
    """Every ``action=`` a ``receipts.record(...)`` call of the portal passes (the one way a
    consent is recorded, with its receipt)."""
    actions = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "receipts.record":
                actions |= {kw.value.value for kw in node.keywords if kw.arg == "action"}
    return actions


@pytest.mark.parametrize("kind", postings.KINDS)
def test_every_ledger_kind_has_words_in_every_language(kind):
    assert kind in ENTRY_KINDS, f"the ledger kind {kind!r} has no words in portal/web/records.py"
    english = ENTRY_KINDS[kind]._args[0]
    for lang, catalog in catalogs().items():
        assert catalog.get(english), f"{kind!r} ({english!r}) has no {lang} translation"


def test_every_consent_action_has_words_in_every_language():
    actions = consent_actions_in_the_code()
    assert actions >= {"deposit", "rental", "api"}  # the scan found the calls
    assert actions <= set(CONSENT_ACTIONS)
    for action in actions:
        english = CONSENT_ACTIONS[action]._args[0]
        for lang, catalog in catalogs().items():
            assert catalog.get(english), f"consent {action!r} has no {lang} translation"


def test_every_posting_names_a_listed_kind():
    tree = ast.parse((ROOT / "portal/money/postings.py").read_text())
    kinds = [ast.unparse(node.args[1]) for node in ast.walk(tree)
             if isinstance(node, ast.Call) and ast.unparse(node.func) == "ledger.post"]
    assert kinds and all(getattr(postings, name) in postings.KINDS for name in kinds)


@pytest.mark.parametrize("language, charged, refunded", [
    ("en", "Number rented", "Failed SMS: price refunded"),
    ("de", "Nummer gemietet", "SMS nicht erhalten: Preis erstattet"),
])
def test_the_statement_describes_and_links_every_line(shop, app, person, language, charged, refunded):
    person.register(language=language)
    fund(1_000)
    reference = rented_ago(timedelta(minutes=21))
    person.refresh_token("/rentals")
    assert person.post(f"/rentals/{reference}/refund", htmx=True).status_code == 200
    page = person.get("/statement").get_data(as_text=True)
    assert not re.search(r">\s*rental(_refund)?\b", page)  # no cell starts with a ledger code
    assert page.count(f'href="/rentals/{reference}"') == 2
    assert charged in page and refunded in page


def test_deposit_and_card_refund_lines_link_their_deposit(app, customer):
    _staff, deposit, _ticket = refunded_deposit(app, customer, "10")
    page = customer.get("/statement").get_data(as_text=True)
    assert "Deposit" in page and "Card refund" in page
    assert page.count(f'href="/deposits/{deposit.reference}"') == 2


@pytest.mark.parametrize("language, words", [
    ("en", "Number rental: performance at once, right of withdrawal waived"),
    ("de", "Nummernmiete: sofortige Ausführung, Verzicht auf das Widerrufsrecht"),
])
def test_the_account_page_names_a_consent_and_links_what_it_was_for(shop, app, person, language, words):
    from portal.store import db
    from portal.store.models import Rental

    person.register(email="ann@example.com", country="AT", language=language)
    fund(1_000)
    assert rent(person, "DE:wa", consent="yes").status_code == 200
    with db.connection():
        reference = Rental.get().reference
    page = person.get("/account").get_data(as_text=True)
    assert f"rental {reference}" not in page
    assert words in page and f'<a href="/rentals/{reference}">{reference}</a>' in page
