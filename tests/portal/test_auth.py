"""Register, log in, log out, the shared login rate limit, CSRF and sessions."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher, Type

from portal_testing import PASSWORD, Person
from portal.accounts import attempts, users
from portal.jobs import tasks
from portal.store import db
from portal.store.fields import utcnow
from portal.store.models import Account, Attempt, User, UserSession

REGISTER_ERRORS = [
    ("not an email", dict(email="ann.example.com"), "Enter a valid email address."),
    ("empty email", dict(email=""), "Enter a valid email address."),
    ("markup in email", dict(email="<b>x</b>@example.com"), "Enter a valid email address."),
    ("short password", dict(password="short"), "Use at least 10 characters."),
    ("long password", dict(password="x" * 257), "Use at most 256 characters."),
    ("unknown country", dict(country="XX"), "Choose your country from the list."),
    ("no country", dict(country=""), "Choose your country from the list."),
    ("unknown language", dict(language="fr"), "Choose one of the offered languages."),
    ("terms not accepted", dict(accept=False), "You must accept the Payment &amp; Refund Policy"),
]


@pytest.mark.parametrize("case, change, message", REGISTER_ERRORS, ids=[c[0] for c in REGISTER_ERRORS])
def test_registration_errors_show_in_the_form_and_create_nothing(person, case, change, message):
    response = person.register(**change)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with db.connection():
        assert User.select().count() == 0 and Account.select().count() == 0


def test_a_taken_email_is_refused_case_insensitively(app, customer):
    response = Person(app.test_client()).register(email="ANN@example.com")
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def test_registrations_from_one_address_are_limited(app):
    """Each answer says whether an address has an account: a client address gets only so
    many of them (accounts opened or refused as taken) within the window."""
    limit = app.config["REGISTER_MAX_PER_ADDRESS"]
    for n in range(limit - 1):
        assert Person(app.test_client()).register(email=f"user{n}@example.com").status_code == 303
    assert Person(app.test_client()).register(email="user0@example.com").status_code == 422  # taken
    for email in ["user0@example.com", "carl@example.com"]:
        refused = Person(app.test_client()).register(email=email)
        body = refused.get_data(as_text=True)
        assert refused.status_code == 429 and "Too many new accounts" in body
        assert "already exists" not in body
    assert Person(app.test_client()).register(email="no address").status_code == 422  # tells nothing
    elsewhere = Person(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert elsewhere.register(email="carl@example.com").status_code == 303
    with db.connection():
        assert Attempt.select().where(Attempt.scope == "register").count() == limit + 1


def test_registration_records_the_terms_version_and_the_sha256_of_its_published_page(app, customer, site_dir):
    versions = json.loads((Path(site_dir) / "versions.json").read_text())
    with db.connection():
        user = User.get(User.email == "ann@example.com")
        wallet = Account.get(Account.user == user)
    published = versions["payment-refund"][user.terms_version]["en"]
    assert user.terms_sha256 == published["sha256"]
    assert user.password_hash.startswith("$argon2id$")
    assert wallet.balance == 0


def test_login_and_logout(app, customer):
    assert customer.get("/dashboard").status_code == 200
    customer.refresh_token("/dashboard")
    assert customer.post("/logout").status_code == 303
    assert customer.get("/dashboard").status_code == 302
    assert customer.login().status_code == 303
    assert customer.get("/dashboard").status_code == 200


# next= values (as the query string decodes them) that must not leave the site: what a
# browser reads (tab, CR and LF dropped, backslash as slash), what Werkzeug strips from a
# header, encoded separators, schemes, look-alike slashes, control characters.
ELSEWHERE = [
    "/\t/evil.example", "/\r/evil.example", "/\n/evil.example", "/\n", "/\r\n", "\t//evil.example",
    "//evil.example", "///evil.example", " //evil.example", "/\\evil.example", "/\\/evil.example",
    "\\\\evil.example", "\\/evil.example", "/%09/evil.example", "/%0a/evil.example", "/%2f/evil.example",
    "/%2F%2Fevil.example", "/%5c/evil.example", "/%5C%5Cevil.example", "%2f%2fevil.example",
    "https://evil.example/", "http:/evil.example", "javascript:alert(1)", "data:text/html,x",
    "/\u2215\u2215evil.example", "/\uff0f\uff0fevil.example", "\uff0f\uff0fevil.example",
    "/\u3000/evil.example", "/\x00", "\x00//evil.example", "/\x1b/evil.example", "/\x7f",
    "evil.example", "", "?next=//evil.example",
]
HERE = ["/statement", "/deposits/new?x=1", "/statement?page=2&x=%2F", "/tickets/new?deposit=dep_1#form",
        "/account?q=a%20b"]


def login_to(person: Person, target: str, htmx: bool):
    person.refresh_token("/login")  # signing in starts a new session, with a new token
    return person.post(f"/login?next={quote(target, safe='')}",
                       {"email": "ann@example.com", "password": PASSWORD}, htmx=htmx)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # no database is involved
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("target, expected", [(t, "/dashboard") for t in ELSEWHERE] + [(t, t) for t in HERE],
                         ids=repr)
def test_signing_in_goes_on_only_to_a_path_of_this_site(customer, target, expected, htmx):
    response = login_to(customer, target, htmx)
    if htmx:
        assert (response.status_code, response.headers["HX-Redirect"]) == (204, expected)
    else:
        assert (response.status_code, response.headers["Location"]) == (303, expected)


def test_the_sixth_failure_within_a_minute_answers_429_from_any_client(app, customer):
    for _ in range(5):
        response = Person(app.test_client()).login(password="wrong password!")
        assert response.status_code == 401
        assert "Wrong email address or password." in response.get_data(as_text=True)
    # A new client (another worker, another cookie jar) is limited too, even with the right password.
    sixth = Person(app.test_client()).login()
    assert sixth.status_code == 429
    assert "Too many failed attempts" in sixth.get_data(as_text=True)
    with db.connection():
        assert Attempt.select().where(Attempt.scope == "account").count() == 5


def test_failures_from_one_address_are_limited_across_accounts(app, customer):
    """Credential stuffing: many accounts, a few tries each, from one address."""
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    statuses = [Person(app.test_client()).login(f"user{n}@example.com", "wrong password!").status_code
                for n in range(limit + 20)]
    assert statuses == [401] * limit + [429] * 20
    assert Person(app.test_client()).login().status_code == 429  # the right password too
    elsewhere = Person(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert elsewhere.login("user1@example.com", "wrong password!").status_code == 401
    assert elsewhere.login().status_code == 303


def test_signing_in_does_not_count_against_the_address(app, customer):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] + 5):
        assert Person(app.test_client()).login().status_code == 303
    with db.connection():
        assert Attempt.select().where(Attempt.scope != "register").count() == 0


@pytest.fixture
def password_checks(monkeypatch):
    """The passwords sign-ins check: an argon2 verification, or the hash that stands in for
    one when there is no such account. Each takes 50 ms, as a real argon2id check does, so
    racing requests overlap."""
    checked = []

    class Counting(PasswordHasher):
        def verify(self, hash, password):
            checked.append(password)
            time.sleep(0.05)
            return super().verify(hash, password)

        def hash(self, password, *, salt=None):
            checked.append(password)
            time.sleep(0.05)
            return super().hash(password, salt=salt)

    monkeypatch.setattr(users, "hasher", lambda params: Counting(type=Type.ID, **params))
    return checked


@pytest.mark.parametrize("emails, limit", [
    (["ann@example.com"] * 20, "LOGIN_MAX_FAILURES"),
    ([f"user{n}@example.com" for n in range(40)], "LOGIN_MAX_FAILURES_PER_ADDRESS"),
], ids=["one account", "40 accounts, one address"])
def test_racing_wrong_passwords_check_exactly_as_many_as_the_limit(app, customer, password_checks,
                                                                  emails, limit):
    people = [Person(app.test_client()) for _ in emails]
    for someone in people:
        someone.refresh_token("/login")
    barrier = threading.Barrier(len(people))

    def try_wrong_password(someone, email):
        barrier.wait()
        return someone.post("/login", {"email": email, "password": "wrong password!"}).status_code

    password_checks.clear()
    with ThreadPoolExecutor(len(people)) as pool:
        statuses = list(pool.map(try_wrong_password, people, emails))
    most = app.config[limit]
    assert len(password_checks) == most
    assert sorted(statuses) == [401] * most + [429] * (len(emails) - most)
    with db.connection():
        assert Attempt.select().where(Attempt.scope == "address").count() == most


def test_reservations_racing_for_the_last_attempts_get_exactly_the_limit(app, monkeypatch):
    """Counting and recording are one step even when recording is slow (on PostgreSQL the
    advisory lock is what makes them one)."""
    record = Attempt.create

    def slow_record(**fields):
        time.sleep(0.02)
        return record(**fields)

    monkeypatch.setattr(Attempt, "create", slow_record)
    barrier = threading.Barrier(12)

    def reserve(_):
        with app.app_context(), db.connection():
            barrier.wait()
            return attempts.reserve([attempts.Limit(attempts.ACCOUNT, "ann@example.com", 5, 60)])

    with ThreadPoolExecutor(12) as pool:
        granted = [r for r in pool.map(reserve, range(12)) if r is not None]
    assert len(granted) == 5


def test_failures_older_than_the_window_do_not_count(app, customer):
    from datetime import timedelta

    from portal.store.fields import utcnow

    with db.connection():
        for _ in range(5):
            Attempt.create(scope="account", key="ann@example.com", at=utcnow() - timedelta(seconds=61))
    assert Person(app.test_client()).login().status_code == 303


STATE_CHANGING = [
    ("/logout", {}),
    ("/deposits", {"amount": "25", "method": "card"}),
    ("/account/preferences", {"language": "de", "country": "DE"}),
    ("/account/password", {"current_password": PASSWORD, "new_password": "another password", "confirm_password": "another password"}),
]


@pytest.mark.parametrize("path, data", STATE_CHANGING, ids=[p for p, _ in STATE_CHANGING])
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_state_changing_requests_without_a_csrf_token_are_refused(customer, path, data, htmx):
    with db.connection():
        before = User.get(User.email == "ann@example.com")
    response = customer.post(path, data, htmx=htmx, csrf=False)
    assert response.status_code == 400
    with db.connection():
        user = User.get(User.email == "ann@example.com")
    assert (user.language, user.password_hash) == ("en", before.password_hash)
    assert customer.get("/dashboard").status_code == 200  # still signed in


def test_login_and_register_need_a_csrf_token_too(person):
    assert person.post("/register", {"email": "a@example.com"}, csrf=False).status_code == 400
    assert person.post("/login", {"email": "a@example.com"}, csrf=False).status_code == 400


def copied_session(person: Person):
    """Another browser holding a copy of ``person``'s session cookie as it is now."""
    copy = Person(person.client.application.test_client())
    copy.client.set_cookie("portal_session", person.client.get_cookie("portal_session").value)
    return copy


def is_signed_out(person: Person, htmx: bool) -> bool:
    response = person.get("/dashboard", htmx=htmx)
    if htmx:
        return (response.status_code, response.headers.get("HX-Redirect")) == (401, "/login")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def sign_out(person: Person):
    person.refresh_token("/dashboard")
    assert person.post("/logout").status_code == 303


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_cookie_copied_before_signing_out_opens_nothing_after(customer, htmx):
    copy = copied_session(customer)
    assert not is_signed_out(copy, htmx)  # the copy works as well as the original ...
    sign_out(customer)
    assert is_signed_out(copy, htmx)  # ... until the session is signed out
    assert is_signed_out(customer, htmx)


def _begun(app, seconds_ago: int) -> None:
    """Every session began ``seconds_ago`` (the lifetime in the app's config is a day)."""
    with db.connection():
        UserSession.update(created_at=utcnow() - timedelta(seconds=seconds_ago)).execute()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("seconds_ago, signed_out", [(86_400 - 60, False), (86_400 + 60, True)],
                         ids=["a minute before a day", "a minute after"])
def test_a_session_ends_a_day_after_signing_in_wherever_its_cookie_is(app, customer, htmx, seconds_ago, signed_out):
    copy = copied_session(customer)
    _begun(app, seconds_ago)
    assert is_signed_out(copy, htmx) is signed_out
    assert is_signed_out(customer, htmx) is signed_out


def test_the_sessions_job_deletes_the_sessions_that_ended(app, customer):
    laptop = Person(app.test_client())
    assert laptop.login().status_code == 303
    _begun(app, 86_400 + 60)
    assert customer.login().status_code == 303  # a new session, begun now; its old one ended by age
    with db.connection():
        assert UserSession.select().count() == 3
    with app.app_context(), db.connection():
        assert tasks.end_expired_sessions_now(app) == 2
        assert UserSession.select().count() == 1
    assert not is_signed_out(customer, htmx=False) and is_signed_out(laptop, htmx=False)


def test_signing_out_on_one_device_leaves_the_others_signed_in(app, customer):
    laptop = Person(app.test_client())
    assert laptop.login().status_code == 303
    sign_out(customer)
    assert laptop.get("/dashboard").status_code == 200
    with db.connection():
        assert UserSession.select().count() == 1


def test_signing_in_again_ends_the_session_the_browser_had(app, customer):
    copy = copied_session(customer)
    assert customer.login().status_code == 303  # signed in already: a new session
    assert is_signed_out(copy, htmx=False)
    assert customer.get("/dashboard").status_code == 200


def test_changing_the_password_ends_other_sessions(app, customer):
    laptop = Person(app.test_client())
    assert laptop.login().status_code == 303
    customer.refresh_token("/account")
    response = customer.post("/account/password", {
        "current_password": PASSWORD, "new_password": "a new long password",
        "confirm_password": "a new long password"}, htmx=True)
    assert response.status_code == 200 and "Password changed" in response.get_data(as_text=True)
    assert customer.get("/dashboard").status_code == 200
    assert laptop.get("/dashboard").status_code == 302
    assert Person(app.test_client()).login(password="a new long password").status_code == 303
    with db.connection():
        assert UserSession.select().count() == 2  # this one and the new sign-in


def test_session_cookie_is_httponly_and_samesite(app, person):
    person.register()
    cookie = person.client.get_cookie("portal_session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_secure_cookies_behind_https(db_url, site_dir):
    from portal_testing import make_app

    secure = make_app(db_url, site_dir, PUBLIC_URL="https://1001sms.com")
    assert secure.config["SESSION_COOKIE_SECURE"] is True
