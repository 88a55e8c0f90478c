"""Staff: every withdrawal request (the EU withdrawal function), newest first, with what
became of each item and the card-refund tickets it opened (staff only; anyone else 404)."""

from __future__ import annotations

from flask import Blueprint

from portal.consent import withdrawals
from portal.routes.staff import staff_required
from portal.web import views

bp = Blueprint("staff_withdrawals", __name__, url_prefix="/staff")


@bp.get("/withdrawals")
@staff_required
def index():
    return views.render("pages/staff_withdrawals.html", "fragments/staff_withdrawal_list.html",
                        withdrawals=withdrawals.recent(200))
