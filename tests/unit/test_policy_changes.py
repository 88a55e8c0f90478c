"""Tables of cases for the rules of policy changes (portal.terms.rules), on a fixture of
three versions: A in force from March 1, B material (published March 10, in force May 1),
C not material (published April 20, in force May 2)."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from portal.policy import TERMS
from portal.terms import rules

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


A = replace(TERMS[0], version="2030-03-01", published_at=at("2030-03-01T00:00"), effective_at=at("2030-03-01T00:00"),
            material=False)
B = replace(A, version="2030-05-01", published_at=at("2030-03-10T00:00"), effective_at=at("2030-05-01T00:00"), material=True)
C = replace(A, version="2030-05-02", published_at=at("2030-04-20T00:00"), effective_at=at("2030-05-02T00:00"), material=False)
VERSIONS = (A, B, C)


@pytest.mark.parametrize("version, now, due", [
    (B, "2030-03-09T23:59:59", False),  # not published yet
    (B, "2030-03-10T00:00:00", True),   # published: notice from now on
    (B, "2030-04-30T23:59:59", True),
    (B, "2030-05-01T00:00:00", False),  # in force: the banner tells from now on
    (C, "2030-04-25T00:00:00", False),  # not material: no notice
    (A, "2030-03-01T00:00:00", False),
])
def test_when_a_notice_is_due(version, now, due):
    assert rules.notice_due(version, at(now)) is due


@pytest.mark.parametrize("now, due", [
    ("2030-03-01T00:00:00", []),
    ("2030-03-10T00:00:00", ["2030-05-01"]),
    ("2030-04-25T00:00:00", ["2030-05-01"]),  # C is published too, but not material
    ("2030-05-01T00:00:00", []),
])
def test_which_campaigns_are_due(now, due):
    assert [t.version for t in rules.campaigns_due(at(now), VERSIONS)] == due


@pytest.mark.parametrize("accepted, version, told", [
    ("2030-03-01", B, True),    # on A: told of B
    ("2030-05-01", B, False),   # accepted B already
    ("2030-05-02", B, False),   # accepted a later version
    ("2030-03-01", C, True),
])
def test_who_is_told_of_a_version(accepted, version, told):
    assert rules.needs_notice(accepted, version, VERSIONS) is told


def test_the_deadline_of_a_notice_gives_the_whole_notice_period():
    assert rules.notice_deadline(B) == at("2030-04-01T00:00") == B.effective_at - timedelta(days=30)


@pytest.mark.parametrize("accepted, now, target", [
    ("2030-03-01", "2030-03-05T00:00", None),          # nothing newer is published
    ("2030-03-01", "2030-03-10T00:00", "2030-05-01"),  # B published, upcoming
    ("2030-03-01", "2030-04-20T00:00", "2030-05-02"),  # B and C published: A->C, not B->C
    ("2030-03-01", "2030-05-01T12:00", "2030-05-02"),  # B in force, C upcoming: A->C
    ("2030-03-01", "2030-06-01T00:00", "2030-05-02"),  # C in force
    ("2030-05-01", "2030-06-01T00:00", "2030-05-02"),  # on B: B->C
    ("2030-05-02", "2030-06-01T00:00", None),          # on the latest
])
def test_which_redline_a_customer_sees(accepted, now, target):
    found = rules.redline_target(accepted, at(now), VERSIONS)
    assert (found.version if found else None) == target


@pytest.mark.parametrize("accepted, shown, now, banner", [
    ("2030-03-01", "", "2030-04-25T00:00", None),                  # B and C only upcoming
    ("2030-03-01", "", "2030-05-01T00:00", "2030-05-01"),          # B took effect
    ("2030-03-01", "2030-05-01", "2030-05-01T12:00", None),        # shown once
    ("2030-03-01", "2030-05-01", "2030-05-02T00:00", "2030-05-02"),  # C took effect since
    ("2030-03-01", "2030-05-02", "2030-06-01T00:00", None),
    ("2030-05-02", "", "2030-06-01T00:00", None),                  # accepted the version in force
    ("2030-05-01", "", "2030-06-01T00:00", "2030-05-02"),
])
def test_when_the_one_time_banner_shows(accepted, shown, now, banner):
    found = rules.banner_version(accepted, shown, at(now), VERSIONS)
    assert (found.version if found else None) == banner


@pytest.mark.parametrize("accepted, version, now, allowed", [
    ("2030-03-01", "2030-05-02", "2030-04-20T00:00", True),   # published, upcoming
    ("2030-03-01", "2030-05-02", "2030-04-19T23:59", False),  # not published yet
    ("2030-03-01", "2030-05-01", "2030-06-01T00:00", True),   # an older newer one: still forward
    ("2030-05-02", "2030-05-01", "2030-06-01T00:00", False),  # backward
    ("2030-05-02", "2030-05-02", "2030-06-01T00:00", False),  # accepted already
    ("2030-03-01", "1999-01-01", "2030-06-01T00:00", False),  # no such version
])
def test_which_version_a_customer_may_accept(accepted, version, now, allowed):
    assert rules.acceptable(accepted, version, at(now), VERSIONS) is allowed
