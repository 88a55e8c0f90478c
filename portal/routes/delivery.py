"""The public page of delivery statistics (``/delivery``): for each country and service on
sale, how many rentals got an SMS and the median time to it, over 7 and 30 days."""

from __future__ import annotations

from flask import Blueprint

from portal.numbers import catalog, delivery
from portal.web import views

bp = Blueprint("delivery", __name__)


@bp.get("/delivery")
def show():
    return views.render("pages/delivery.html", "pages/delivery.html", offers=catalog.offers(),
                        stats=delivery.shown(), computed_at=delivery.computed_at(),
                        minimum=delivery.MINIMUM, periods=delivery.PERIODS)
