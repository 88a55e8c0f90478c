"""The notices of material policy changes in the staff console (``/staff/notices``, staff
only): each campaign with its version, deadline and mails sent, failed and pending."""

from __future__ import annotations

from flask import Blueprint

from portal.routes.staff import staff_required
from portal.terms import notices
from portal.web import views

bp = Blueprint("staff_notices", __name__, url_prefix="/staff/notices")


@bp.get("")
@staff_required
def index():
    return views.render("pages/staff_notices.html", "fragments/staff_notice_campaigns.html",
                        campaigns=notices.campaigns())
