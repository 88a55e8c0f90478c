"""Pure rules of policy changes: who must be told of a version, and when; which version a
customer's redline compares with; when the one-time banner shows.

Each is a function of the versions (``portal.policy.TERMS`` unless given: tests pass a
fixture), the version a customer accepted and ``now``. A version's name is the ISO date it
takes effect (the site's build checks that), so versions compare by their effective instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from portal.policy import TERMS, Terms


def _named(name: str, versions: Sequence[Terms]) -> Terms:
    for candidate in versions:
        if candidate.version == name:
            return candidate
    raise LookupError(f"no Terms version {name!r}")


def _newer(accepted: str, versions: Sequence[Terms]) -> list[Terms]:
    since = _named(accepted, versions).effective_at
    return [t for t in versions if t.effective_at > since]


def notice_due(version: Terms, now: datetime) -> bool:
    """Is the e-mail notice of ``version`` to be sent at ``now``? For a material version from
    its publication until it takes effect (after that, the banner tells)."""
    return version.material and version.published_at <= now < version.effective_at


def notice_deadline(version: Terms) -> datetime:
    """The last instant a notice of ``version`` gives its full ``notice_period``."""
    return version.effective_at - version.notice_period


def needs_notice(accepted: str, version: Terms, versions: Sequence[Terms] = TERMS) -> bool:
    """Must a customer who accepted ``accepted`` be told of ``version``? When it takes effect
    after the accepted one (one who already accepted it, or a later one, needs no notice)."""
    return version in _newer(accepted, versions)


def campaigns_due(now: datetime, versions: Sequence[Terms] = TERMS) -> list[Terms]:
    """The versions whose notices are to be sent at ``now``, oldest first."""
    return [t for t in versions if notice_due(t, now)]


def redline_target(accepted: str, now: datetime, versions: Sequence[Terms] = TERMS) -> Terms | None:
    """The version a customer who accepted ``accepted`` sees the changes to: the latest one
    published by ``now`` (in force or upcoming) that is newer, however many lie between; the
    redline compares the accepted text with it directly."""
    published = [t for t in _newer(accepted, versions) if t.published_at <= now]
    return published[-1] if published else None


def banner_version(accepted: str, shown: str, now: datetime,
                   versions: Sequence[Terms] = TERMS) -> Terms | None:
    """The version the one-time banner is about: the one in force at ``now``, when it is newer
    than the accepted one and its banner was not ``shown`` yet ("" for none)."""
    in_force = [t for t in versions if t.effective_at <= now]
    if not in_force or in_force[-1] not in _newer(accepted, versions):
        return None
    if shown and in_force[-1] not in _newer(shown, versions):
        return None
    return in_force[-1]


def acceptable(accepted: str, version: str, now: datetime, versions: Sequence[Terms] = TERMS) -> bool:
    """May a customer who accepted ``accepted`` accept ``version`` at ``now``? A published
    version newer than the accepted one: acceptances only move forward."""
    return any(t.version == version and t.published_at <= now for t in _newer(accepted, versions))
