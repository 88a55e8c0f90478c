"""Times as a customer reads them: in the account's time zone (from the browser at
registration, changed on the account page), always naming the zone; how long is left,
exact at every scale."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.accounts import time_zones
from portal.store import db
from portal.store.models import User
from portal_testing import Person

NOON_UTC = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("left, english, german", [
    (timedelta(days=7), "7 days", "7 Tage"),
    (timedelta(days=6, hours=23, minutes=59, seconds=59), "6 days 23 hours", "6 Tage 23 Stunden"),
    (timedelta(days=1, minutes=5), "1 day", "1 Tag"),
    (timedelta(days=1, hours=1), "1 day 1 hour", "1 Tag 1 Stunde"),
    (timedelta(hours=23, minutes=59, seconds=30), "23 hours 59 minutes", "23 Stunden 59 Minuten"),
    (timedelta(hours=2), "2 hours", "2 Stunden"),
    (timedelta(minutes=4, seconds=30), "4 minutes 30 seconds", "4 Minuten 30 Sekunden"),
    (timedelta(minutes=1, seconds=1), "1 minute 1 second", "1 Minute 1 Sekunde"),
    (timedelta(seconds=30), "30 seconds", "30 Sekunden"),
    (timedelta(seconds=1), "1 second", "1 Sekunde"),
    (timedelta(seconds=0.4), "0 seconds", "0 Sekunden"),
    (timedelta(seconds=-5), "0 seconds", "0 Sekunden"),
])
def test_how_long_is_left_is_exact_at_every_scale(app, left, english, german):
    from portal.web.i18n import remaining

    for lang, expected in (("en", english), ("de", german)):
        with app.test_request_context(headers={"Accept-Language": lang}):
            assert remaining(left) == expected


@pytest.mark.parametrize("lang, zone, shown", [
    ("en", "UTC", "Nov 25, 2026, 12:00:00\u202fPM UTC"),
    ("en", "America/New_York", "Nov 25, 2026, 7:00:00\u202fAM EST"),
    ("en", "Europe/Berlin", "Nov 25, 2026, 1:00:00\u202fPM GMT+01:00"),
    ("de", "Europe/Berlin", "25.11.2026, 13:00:00 MEZ"),
    ("de", "Asia/Kolkata", "25.11.2026, 17:30:00 GMT+05:30"),
])
def test_a_moment_always_names_its_zone(lang, zone, shown):
    from portal.web.i18n import moment

    assert moment(NOON_UTC, lang, ZoneInfo(zone)).replace(" ", " ") == shown.replace(" ", " ")


@pytest.mark.parametrize("given, kept", [
    ("Europe/Berlin", "Europe/Berlin"), ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("", "UTC"), (None, "UTC"), ("Mars/Olympus", "UTC"), ("../../etc/passwd", "UTC"), ("x" * 500, "UTC"),
])
def test_the_browsers_zone_is_kept_when_known(given, kept):
    assert time_zones.from_browser(given) == kept


def registered(app, **form) -> Person:
    someone = Person(app.test_client())
    someone.refresh_token("/register")
    response = someone.post("/register", {"email": "ann@example.com", "password": "correct horse battery",
                                          "country": "US", "language": "en", "accept_terms": "yes", **form})
    assert response.status_code == 303
    return someone


def test_registration_takes_the_browsers_time_zone(app):
    page = app.test_client().get("/register").get_data(as_text=True)
    assert 'name="time_zone" value="" data-browser-time-zone' in page
    assert "/static/browser_time_zone.js" in page
    registered(app, time_zone="Europe/Berlin")
    with db.connection():
        assert User.get().time_zone == "Europe/Berlin"


@pytest.mark.parametrize("zone, names", [("America/New_York", ("EST", "EDT")), ("Asia/Kolkata", ("GMT+05:30",))])
def test_times_are_shown_in_the_accounts_zone_with_the_zone(app, zone, names):
    from portal.store.models import Deposit
    from portal.web.i18n import moment

    someone = registered(app, time_zone=zone)
    someone.deposit("25")
    with db.connection():
        created = Deposit.get().created_at
    shown = moment(created, "en", ZoneInfo(zone))
    assert shown.endswith(names)
    assert shown in someone.get("/dashboard").get_data(as_text=True)
    assert moment(created, "en", ZoneInfo("UTC")) not in someone.get("/dashboard").get_data(as_text=True)


def test_the_account_page_changes_the_zone_and_refuses_an_unknown_one(app):
    someone = registered(app)
    page = someone.get("/account").get_data(as_text=True)
    assert '<option value="UTC" selected>UTC</option>' in page
    assert '<option value="Asia/Kolkata" >Asia/Kolkata</option>' in page
    someone.refresh_token("/account")
    refused = someone.post("/account/preferences", {"language": "en", "country": "DE", "time_zone": "Mars/Olympus"},
                           htmx=True)
    assert refused.status_code == 422 and "Choose your time zone from the list." in refused.get_data(as_text=True)
    saved = someone.post("/account/preferences", {"language": "de", "country": "DE", "time_zone": "Europe/Berlin"},
                         htmx=True)
    assert saved.status_code == 200
    with db.connection():
        assert User.get().time_zone == "Europe/Berlin"
