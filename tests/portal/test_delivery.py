"""Delivery statistics (``portal.numbers.delivery``): a table of rental histories and the
figures they give; the figures refreshed from the rentals' timelines; shown beside the price
in the rent list and on the public page ("not enough data" below the minimum, which the
page states); the demo seed makes enough history for real figures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from portal.numbers import delivery, rentals
from portal.numbers.delivery import Figures, Outcome
from portal.numbers.sms import Simulator, SimulatorConfig
from portal.store import db
from portal_testing import Person
from test_rentals import fund, make_user, shop  # noqa: F401 (a fixture)

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=timezone.utc)
WINDOW = timedelta(minutes=20)


def got(days_ago: float, after_seconds: float | None) -> Outcome:
    issued = NOW - timedelta(days=days_ago)
    return Outcome(issued, issued + WINDOW, issued + timedelta(seconds=after_seconds) if after_seconds is not None else None)


# (case, outcomes, days) -> (rentals, received, median seconds)
HISTORIES = [
    ("nothing", [], 7, (0, 0, None)),
    ("one SMS", [got(1, 30)], 7, (1, 1, 30)),
    ("one failure", [got(1, None)], 7, (1, 0, None)),
    ("median of three", [got(1, 10), got(2, 20), got(3, 90)], 7, (3, 3, 20)),
    ("median of two is their middle", [got(1, 10), got(2, 21)], 7, (2, 2, 16)),
    ("failures count, not in the median", [got(1, 10), got(1, None), got(2, 30)], 7, (3, 2, 20)),
    ("older than the period left out", [got(1, 10), got(8, 99)], 7, (1, 1, 10)),
    ("the 30-day period keeps it", [got(1, 10), got(8, 99)], 30, (2, 2, 54)),
    ("still waiting: not decided yet", [got(0.001, None)], 7, (0, 0, None)),
    ("waiting, but its SMS came", [got(0.0001, 5)], 7, (1, 1, 5)),
    ("issued after now (clock skew) left out", [got(-1, 10)], 7, (0, 0, None)),
]


@pytest.mark.parametrize("outcomes, days, expected", [h[1:] for h in HISTORIES], ids=[h[0] for h in HISTORIES])
def test_figures(outcomes, days, expected):
    found = delivery.figures(outcomes, NOW, days)
    assert (found.rentals, found.received, found.median_seconds) == expected


@pytest.mark.parametrize("rentals_count, enough", [(0, False), (delivery.MINIMUM - 1, False), (delivery.MINIMUM, True)])
def test_enough_data(rentals_count, enough):
    assert Figures(rentals_count, rentals_count, 5).enough is enough


def test_refresh_reads_the_timelines_and_the_pages_show_it(app, shop):  # noqa: F811
    person = Person(app.test_client())
    person.register()
    now = datetime.now(timezone.utc)
    with app.app_context(), db.connection():
        user = make_user(email="h@example.com")
        fund(user, 100_000)
        for index in range(delivery.MINIMUM + 2):
            at = now - timedelta(hours=index + 1)
            delay = 10 + index if index % 4 else None  # every fourth gets no SMS
            clock = [at]
            sim = Simulator(SimulatorConfig.parse(f"default=deliver:{delay}s" if delay else "default=never"),
                            now=lambda clock=clock: clock[0])
            rental = rentals.rent(user, "US", "tg", provider=sim, now=at)
            clock[0] = at + timedelta(seconds=delay) if delay else rental.ends_at
            rentals.sync(rental, provider=sim, now=clock[0])
        rentals.rent(user, "US", "wa", provider=Simulator(SimulatorConfig.parse("default=never")), now=now)
        assert delivery.refresh(now + timedelta(minutes=1)) == 4  # two offers x two periods
        shown = delivery.shown()
    tg = shown[("US", "tg")][30]
    assert (tg.rentals, tg.received) == (12, 9) and tg.enough and tg.median_seconds == 16
    assert shown[("US", "wa")][7].rentals == 0  # still waiting
    page = person.get("/rentals?country=US&service=tg").get_data(as_text=True)
    assert "75% got an SMS, median 16 seconds" in page and "/delivery" in page
    public = Person(app.test_client()).get("/delivery").get_data(as_text=True)
    assert "75% got an SMS, median 16 seconds" in public and "(12 rentals)" in public
    assert "not enough data" in public and f"fewer than {delivery.MINIMUM}" in public


def test_the_demo_seed_makes_enough_history(app):
    from portal.demo_seed import seed

    with app.app_context(), db.connection():
        seed(app.config)
        shown = delivery.shown()
    assert shown[("US", "wa")][30].enough and shown[("US", "go")][30].enough is False
    page = Person(app.test_client()).get("/delivery").get_data(as_text=True)
    assert "got an SMS, median" in page
