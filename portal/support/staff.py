"""Account standing, set by staff with a reason: suspend, terminate, reactivate, and
dismiss a refund-abuse flag after review. (A card dispute restricts an account by itself
while it is open: ``portal.money.disputes``.) A suspended (or terminated) customer may sign
in, read the balance and open tickets, but may not deposit or rent."""

from __future__ import annotations

from portal.support import audit
from portal.accounts.users import FormError
from portal.store.db import database
from portal.store.fields import utcnow
from portal.store.models import User

# action -> (standings it applies to, the standing it leads to)
ACTIONS = {
    "suspend": (("active",), "suspended"),
    "terminate": (("active", "restricted", "suspended"), "terminated"),
    "reactivate": (("suspended",), "active"),
    "dismiss_flag": (("active", "restricted", "suspended", "terminated"), None),
}
MAX_REASON = 1000


def set_standing(actor: User, user_id: int, action: str, reason: str) -> User:
    """Apply a standing action with its reason, conditionally on the current standing;
    ``FormError`` when the reason is missing or the action does not apply."""
    reason = (reason or "").strip()
    if action not in ACTIONS:
        raise FormError({"action": "standing.invalid"})
    if not reason:
        raise FormError({"reason": "standing.reason_missing"})
    if len(reason) > MAX_REASON:
        raise FormError({"reason": "standing.reason_too_long"})
    allowed_from, target = ACTIONS[action]
    now = utcnow()
    with database.atomic():
        query = (User.update(flagged_at=None, flag_reason="") if target is None else
                 User.update(status=target, status_reason=reason, status_changed_at=now))
        changed = query.where(User.id == user_id, User.status.in_(allowed_from),
                              User.is_staff == False).execute()  # noqa: E712
        if not changed:
            raise FormError({"action": "standing.not_applicable"})
        audit.record(actor, f"account.{action}", subject_user=user_id, reason=action, note=reason)
    return User.get_by_id(user_id)


def review_list():
    """Accounts awaiting review (flagged) or not in good standing, flagged first."""
    return (User.select().where((User.flagged_at.is_null(False)) | (User.status != "active"))
            .order_by(User.flagged_at.desc(nulls="LAST"), User.id))
