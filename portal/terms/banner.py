"""The one-time banner shown on a customer's first page after a newer version took effect:
what changed since the version they accepted, and a button to continue (accept it).

``due`` says which version (if any) the banner is about; ``shown`` records that it was shown
by a conditional UPDATE that only moves forward, so it shows once, whatever the tabs.
"""

from __future__ import annotations

from datetime import datetime

from portal.policy import Terms
from portal.store.models import User
from portal.terms import rules


def due(user: User, now: datetime) -> Terms | None:
    """The version in force whose banner ``user`` has not been shown, when newer than theirs."""
    return rules.banner_version(user.terms_version, user.terms_banner_version, now)


def shown(user: User, version: Terms) -> bool:
    """Record that ``user`` saw the banner of ``version``; False when a later one was recorded."""
    return bool(User.update(terms_banner_version=version.version)
                .where(User.id == user.id, User.terms_banner_version < version.version).execute())
