"""Every user-facing string of the portal is translated into German; the locale follows
the account, else Accept-Language; money and dates are formatted per locale."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal_testing import Person
from portal.store import db
from portal.policy import CLAUSE_ANCHORS

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OWN = ("portal/templates/", "portal/__init__.py", "portal/routes/", "portal/web/", "portal/terms/",
       "portal/consent/")


def portal_messages() -> set[str]:
    found = set()
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "portal"), METHODS, {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords=KEYWORDS,
    ):
        if f"portal/{filename}".startswith(OWN):
            found.add(message if isinstance(message, str) else message[0])
    return found


def german() -> dict[str, str]:
    with (ROOT / "translations/de/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="de")
    # A plural's id is (singular, plural): found by its singular, translated when every form is.
    return {(m.id[0] if m.pluralizable else m.id): (m.string if not m.pluralizable else
                                                    ("" if not all(m.string) else m.string[0]))
            for m in catalog if m.id and not m.fuzzy}


def test_every_portal_string_has_a_german_translation():
    translated = german()
    strings = portal_messages()
    assert len(strings) > 100  # the extraction found the portal's strings
    missing = sorted(s for s in strings if not translated.get(s))
    assert missing == [], f"{len(missing)} untranslated portal strings, first: {missing[:5]}"


def test_the_withdrawal_links_label_is_the_one_the_policy_names_in_each_language():
    """The policy tells EU consumers which link to follow: the portal must show those words."""
    content = ROOT / "site" / "content" / "payment-refund"
    label = "Withdraw from contract here"
    for language, shown in (("en", label), ("de", german()[label])):
        texts = [path.read_text(encoding="utf-8") for path in content.glob(f"*.{language}.md")]
        assert any(shown in text for text in texts), (language, shown)


def test_every_reason_the_portal_shows_has_a_message_and_a_clause_anchor():
    from portal.web.messages import MESSAGES

    shown = {code for code in MESSAGES if code.startswith(("deposit.", "eu."))}
    assert shown <= set(CLAUSE_ANCHORS)


def test_a_german_browser_gets_german_pages(app):
    page = app.test_client().get("/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    text = page.get_data(as_text=True)
    assert '<html lang="de">' in text and "Anmelden" in text and 'href="/de/payment-refund/"' in text


def test_the_account_language_wins_over_the_browser(app):
    someone = Person(app.test_client())
    someone.register(language="de", country="AT")
    page = someone.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de">' in page and "Guthaben" in page and "0,00\xa0$" in page


@pytest.mark.parametrize("language, minimum", [("en", "The minimum deposit is $5.00."),
                                               ("de", "Die Mindesteinzahlung beträgt 5,00\xa0$.")])
def test_refusals_are_in_the_users_language(app, language, minimum):
    someone = Person(app.test_client())
    someone.register(language=language)
    someone.refresh_token("/deposits/new")
    body = someone.post("/deposits", {"amount": "1", "method": "card"}, htmx=True).get_data(as_text=True)
    assert minimum in body
    assert f'/{language}/payment-refund/2026-11-24/#deposit-limits' in body


def test_changing_the_language_on_the_account_page(app):
    someone = Person(app.test_client())
    someone.register()
    someone.refresh_token("/account")
    response = someone.post("/account/preferences", {"language": "de", "country": "DE"}, htmx=True)
    assert response.status_code == 200 and "Gespeichert." in response.get_data(as_text=True)
    with db.connection():
        from portal.store.models import User
        assert (User.get().language, User.get().country) == ("de", "DE")


@pytest.mark.parametrize("data, message", [
    ({"language": "xx", "country": "DE"}, "Choose one of the offered languages."),
    ({"language": "en", "country": "ZZ"}, "Choose your country from the list."),
])
def test_bad_preferences_are_refused_in_the_form(app, data, message):
    someone = Person(app.test_client())
    someone.register()
    someone.refresh_token("/account")
    response = someone.post("/account/preferences", data, htmx=True)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert response.get_data(as_text=True).lstrip().startswith('<form id="preferences-form"')


def test_the_account_page_shows_the_accepted_version_and_links_the_next_ones_changes(app):
    someone = Person(app.test_client())
    someone.register(language="de", country="DE")
    page = someone.get("/account").get_data(as_text=True)
    assert "Sie haben die Fassung 2026-11-24" in page
    assert 'href="/de/payment-refund/2026-11-24/"' in page
    # 2027-01-01 is published and upcoming (or in force) while the user accepted 2026-11-24.
    assert 'href="/de/payment-refund/2027-01-01/changes/"' in page
    assert "1. Januar 2027" in page


@pytest.mark.parametrize("code, version, text, anchor", [
    ("deposit.below_minimum", None, "The minimum deposit is $5.00.", "/en/payment-refund/2026-11-24/#deposit-limits"),
    ("card_refund.window_passed", "2026-11-24", "Not refundable: the refund window has passed.",
     "/en/payment-refund/2026-11-24/#card-deposit-refunds"),
    ("sms_refund.allowed", None, "$0.45 was credited to your balance.", "#failed-sms-refunds"),
    ("login.failed", None, "Wrong email address or password.", None),
])
def test_a_reason_code_becomes_its_text_and_clause_in_one_place(app, code, version, text, anchor):
    from portal.web.reasons import explain

    values = {"price": 45} if code == "sms_refund.allowed" else {}
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        reason = explain(code, version, **values)
    assert reason.text == text
    assert (reason.link is None) if anchor is None else reason.link.endswith(anchor)


def policy_titles(lang: str) -> set[str]:
    """The titles the site gives the Payment & Refund Policy's versions in ``lang``."""
    import yaml

    return {yaml.safe_load(path.read_text().split("---")[1])["title"]
            for path in (ROOT / "site/content/payment-refund").glob(f"*.{lang}.md")}


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_policy_has_one_name_in_each_language_on_the_site_and_in_the_portal(lang):
    from translations.catalog import translations

    name = translations(lang).gettext("Payment & Refund Policy")
    assert policy_titles(lang) == {name}
    if lang != "en":
        # Every other text says the name through that one entry (%(policy)s), never typed again.
        others = [text for msgid, text in german().items()
                  if msgid != "Payment & Refund Policy" and "erstattungsrichtlinie" in text.lower()]
        assert others == []


def test_german_portal_pages_use_the_sites_name_of_the_policy(app):
    page = app.test_client().get("/register", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert page.count("Zahlungs- und Rückerstattungsrichtlinie") == 2  # the box and the footer
    assert "Zahlungs- und Erstattungsrichtlinie" not in page
    someone = Person(app.test_client())
    someone.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    someone.refresh_token("/register")
    refused = someone.post("/register", {"email": "ann@example.com", "password": "correct horse battery",
                                         "country": "DE", "language": "de"})
    assert "müssen Sie die Zahlungs- und Rückerstattungsrichtlinie akzeptieren" in refused.get_data(as_text=True)


def test_a_block_in_another_language_translates_strings_and_templates_then_returns(app):
    from flask import render_template

    from portal.web import i18n

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert i18n.gettext("Balance") == "Balance"
        with i18n.in_language("de"):
            assert i18n.gettext("Balance") == "Guthaben"
            assert i18n.language() == "de"
            assert "Guthaben" in render_template("fragments/balance.html", header_balance=100)
        assert i18n.gettext("Balance") == "Balance"
        assert "Balance:" in render_template("fragments/balance.html", header_balance=100)


def test_only_the_i18n_module_switches_flask_babels_locale():
    """``i18n`` keeps the request's catalog between strings; a ``force_locale`` of its own
    elsewhere would leave that memo in the outer language (``i18n.in_language`` is the way)."""
    users = [path.relative_to(ROOT) for path in (ROOT / "portal").rglob("*.py")
             if "force_locale" in path.read_text() and path.name != "i18n.py"]
    assert users == []
