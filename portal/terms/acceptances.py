"""Which versions of the Payment & Refund Policy a customer accepted, when and from where.

Every acceptance is a row of ``terms_acceptance`` (at registration, or by continuing after a
change); ``User.terms_version``, ``terms_sha256`` and ``terms_accepted_at`` hold the newest
one. An acceptance only moves forward: a conditional UPDATE takes the user to a newer version,
and the row is written in the same transaction, so a double click records one acceptance.
"""

from __future__ import annotations

from datetime import datetime

from portal.site_versions import Published
from portal.store.db import database
from portal.store.models import TermsAcceptance, User

REGISTRATION, CONTINUED = "registration", "continued"


def record_registration(user: User, ip: str) -> TermsAcceptance:
    """The acceptance a new account made (in the caller's transaction)."""
    return TermsAcceptance.create(user=user, terms_version=user.terms_version, terms_sha256=user.terms_sha256,
                                  accepted_at=user.terms_accepted_at, ip=ip, source=REGISTRATION)


def accept(user: User, page: Published, *, ip: str, now: datetime) -> bool:
    """Record that ``user`` accepted the published ``page`` of a newer version; False when
    the user's accepted version is not older any more (accepted already, or a later one)."""
    with database.atomic():
        moved = (User.update(terms_version=page.version, terms_sha256=page.sha256, terms_accepted_at=now)
                 .where(User.id == user.id, User.terms_version < page.version).execute())
        if moved:
            TermsAcceptance.create(user=user.id, terms_version=page.version, terms_sha256=page.sha256,
                                   accepted_at=now, ip=ip, source=CONTINUED)
    return bool(moved)


def history(user_id: int) -> list[TermsAcceptance]:
    """The user's acceptances, newest first."""
    return list(TermsAcceptance.select().where(TermsAcceptance.user == user_id)
                .order_by(TermsAcceptance.accepted_at.desc(), TermsAcceptance.id.desc()))
