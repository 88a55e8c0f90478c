"""What changed since a customer accepted a version, on the account page and in the one-time
banner after a newer version took effect; continuing records the acceptance (version,
sha256, time, IP) in the history the account page lists; the migration backfills it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

import portal.routes.policy as policy_routes
from portal.policy import TERMS
from portal.store import db, migrate
from portal.store.models import TermsAcceptance, User
from portal.terms import texts
from portal_testing import make_app

A, B, C = TERMS[0], TERMS[1], TERMS[2]


def sha256(site_dir: str, version: str, lang: str = "en") -> str:
    return json.loads((Path(site_dir) / "versions.json").read_text())["payment-refund"][version][lang]["sha256"]


@pytest.fixture
def on_a(customer, site_dir):
    """The customer, who accepted the first version (whatever the day the tests run)."""
    with db.connection():
        User.update(terms_version=A.version, terms_sha256=sha256(site_dir, A.version)).execute()
    return customer


def clock(monkeypatch, instant):
    monkeypatch.setattr(policy_routes, "utcnow", lambda: instant)


def test_the_account_page_shows_the_redline_from_the_accepted_version_to_the_latest(on_a, site_dir, monkeypatch):
    clock(monkeypatch, C.published_at + timedelta(hours=1))  # B and C published, both upcoming
    page = on_a.get("/account").get_data(as_text=True)
    assert "What changed since you accepted version 2026-11-24" in page
    assert f"Compared with version {C.version}, which takes effect on January 2, 2027." in page
    assert texts.changes(site_dir, A.version, C.version, "en") in page  # A->C, not B->C
    assert 'name="version" value="2027-01-02"' in page
    assert 'id="terms-banner"' not in page  # nothing has taken effect yet


def test_the_banner_shows_once_on_the_first_page_after_a_new_version_took_effect(on_a, site_dir, monkeypatch):
    clock(monkeypatch, C.effective_at + timedelta(days=3))
    first = on_a.get("/dashboard").get_data(as_text=True)
    assert 'id="terms-banner"' in first
    assert f"Version {C.version} is in force since January 2, 2027. You accepted version {A.version}." in first
    assert texts.changes(site_dir, A.version, C.version, "en") in first
    assert 'id="terms-banner"' not in on_a.get("/dashboard").get_data(as_text=True)
    assert 'id="terms-banner"' not in on_a.get("/rentals").get_data(as_text=True)
    account = on_a.get("/account").get_data(as_text=True)  # the changes stay on the account page
    assert f"Compared with version {C.version}, in force since January 2, 2027." in account


def test_the_account_page_neither_shows_nor_uses_up_the_banner(on_a, monkeypatch):
    clock(monkeypatch, C.effective_at + timedelta(days=3))
    assert 'id="terms-banner"' not in on_a.get("/account").get_data(as_text=True)
    assert 'id="terms-banner"' not in on_a.get("/dashboard", htmx=True).get_data(as_text=True)  # a fragment
    assert 'id="terms-banner"' in on_a.get("/dashboard").get_data(as_text=True)


def test_a_site_that_lags_behind_the_terms_shows_no_banner_and_every_page_works(on_a, monkeypatch, tmp_path):
    clock(monkeypatch, C.effective_at + timedelta(days=3))
    (tmp_path / "versions.json").write_text('{"payment-refund": {}}')
    on_a.client.application.config["SITE_DIR"] = str(tmp_path)
    answer = on_a.get("/dashboard")
    assert answer.status_code == 200 and 'id="terms-banner"' not in answer.get_data(as_text=True)


def test_continuing_records_the_acceptance_once(on_a, site_dir, monkeypatch):
    clock(monkeypatch, C.effective_at + timedelta(days=3))
    on_a.get("/dashboard")
    on_a.refresh_token("/dashboard")
    form = {"version": C.version, "shown_in": "banner"}
    answer = on_a.post("/account/terms", form, htmx=True)
    assert answer.status_code == 200
    assert f"Thank you: you accepted version {C.version}" in answer.get_data(as_text=True)
    assert on_a.post("/account/terms", form, htmx=True).status_code == 200  # a second click changes nothing
    with db.connection():
        user = User.get()
        rows = list(TermsAcceptance.select().where(TermsAcceptance.user == user.id).order_by(TermsAcceptance.id))
    assert (user.terms_version, user.terms_sha256) == (C.version, sha256(site_dir, C.version))
    assert [(r.source, r.terms_version) for r in rows][-1] == ("continued", C.version)
    assert len([r for r in rows if r.source == "continued"]) == 1
    assert rows[-1].ip == "127.0.0.1" and rows[-1].terms_sha256 == user.terms_sha256
    assert rows[-1].accepted_at == user.terms_accepted_at
    page = on_a.get("/account").get_data(as_text=True)
    table = page[page.index('id="terms-acceptances"'):]
    assert C.version in table and "by continuing after a change" in table and "127.0.0.1" in table
    assert "What changed since you accepted" not in page  # nothing newer any more
    assert 'id="terms-banner"' not in on_a.get("/dashboard").get_data(as_text=True)


@pytest.mark.parametrize("version, status", [
    (B.version, 200),  # forward, though not the latest
    ("1999-01-01", 409),  # no such version
    (A.version, 200),  # the accepted one: nothing to do
])
def test_what_the_button_may_accept(on_a, version, status):
    on_a.refresh_token("/account")
    answer = on_a.post("/account/terms", {"version": version}, htmx=True)
    assert answer.status_code == status
    if status == 409:
        assert "This version cannot be accepted" in answer.get_data(as_text=True)


def test_going_back_to_an_older_version_is_refused(on_a):
    on_a.refresh_token("/account")
    assert on_a.post("/account/terms", {"version": C.version}, htmx=True).status_code == 200
    assert on_a.post("/account/terms", {"version": B.version}, htmx=True).status_code == 409
    with db.connection():
        assert User.get().terms_version == C.version


def test_continuing_needs_the_csrf_token(on_a):
    assert on_a.post("/account/terms", {"version": C.version}, csrf=False).status_code == 400


def test_the_account_page_in_german(person, site_dir, monkeypatch):
    person.register(language="de", country="AT")
    with db.connection():
        User.update(terms_version=A.version).execute()
    clock(monkeypatch, C.published_at + timedelta(hours=1))
    page = person.get("/account").get_data(as_text=True)
    assert "Was sich geändert hat, seit Sie die Fassung 2026-11-24 akzeptiert haben" in page
    assert texts.changes(site_dir, A.version, C.version, "de") in page
    assert "Fortfahren" in page and "Ihre Zustimmungen" in page


def test_registration_records_the_first_acceptance(customer):
    with db.connection():
        row = TermsAcceptance.get()
        user = User.get()
    assert (row.user_id, row.terms_version, row.terms_sha256, row.source, row.ip) == (
        user.id, user.terms_version, user.terms_sha256, "registration", "127.0.0.1")
    assert "when the account was opened" in customer.get("/account").get_data(as_text=True)


def test_the_migration_backfills_the_history_from_every_account(empty_db_url, site_dir):
    old = db.bind(empty_db_url)
    with db.connection():
        migrate.upgrade(old, target="0012_delivery_stats")
        accepted = A.effective_at + timedelta(hours=5)
        old.execute_sql('INSERT INTO "user" (email, password_hash, language, country, time_zone, is_staff, '
                        "session_version, terms_version, terms_sha256, terms_accepted_at, created_at, status, "
                        "status_reason, flag_reason) VALUES ('old@example.com', 'x', 'en', 'US', 'UTC', %s, 1, "
                        "%s, %s, %s, %s, 'active', '', '')".replace("%s", old.param),
                        (False, A.version, "ab" * 32, accepted.replace(tzinfo=None), accepted.replace(tzinfo=None)))
    make_app(empty_db_url, site_dir)
    with db.connection():
        row = TermsAcceptance.get()
        assert (row.user.email, row.terms_version, row.terms_sha256, row.accepted_at, row.ip, row.source) == (
            "old@example.com", A.version, "ab" * 32, accepted, "", "registration")
        assert User.get().terms_banner_version == ""
