"""Dates and language names: Babel's text, remembered between builds."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from babel.dates import format_date, format_datetime

from sitegen import formats
from sitegen.formats import Formats

CASES = [
    ("en", date(2027, 1, 1), "long"),
    ("de", date(2027, 1, 1), "long"),
    ("de", datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc), "medium"),
]


@pytest.mark.parametrize("lang, value, fmt", CASES)
def test_dates_are_babels(tmp_path, lang, value, fmt):
    day = value.date() if isinstance(value, datetime) else value
    assert Formats(tmp_path).date(value, fmt, lang) == format_date(day, fmt, locale=lang)


def test_datetimes_and_language_names_are_babels(tmp_path):
    moment = datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)
    assert Formats(tmp_path).datetime(moment, "long", "de") == format_datetime(moment, "long", tzinfo=timezone.utc, locale="de")
    assert Formats(tmp_path).language_name("de") == "Deutsch"


def test_a_later_build_formats_without_babel(tmp_path, monkeypatch):
    first = Formats(tmp_path)
    expected = first.date(date(2027, 1, 1), "long", "de")
    first.save()
    monkeypatch.setattr(formats, "_babel_dates", lambda: pytest.fail("Babel was asked again"))
    assert Formats(tmp_path).date(date(2027, 1, 1), "long", "de") == expected


def test_another_babel_version_formats_again(tmp_path, monkeypatch):
    first = Formats(tmp_path)
    first.known["date|de|long|2027-01-01"] = "stale"
    first.added = True
    first.save()
    monkeypatch.setattr(formats, "_babel_version", lambda: "99.0")
    assert Formats(tmp_path).date(date(2027, 1, 1), "long", "de") == "1. Januar 2027"


def test_workers_saving_at_once_keep_each_others_dates(tmp_path):
    one, two = Formats(tmp_path), Formats(tmp_path)
    one.date(date(2027, 1, 1), "long", "en")
    two.date(date(2026, 11, 24), "long", "en")
    one.save()
    two.save()
    assert {"date|en|long|2027-01-01", "date|en|long|2026-11-24"} <= set(Formats(tmp_path).known)
