"""The staff price page (``/staff/prices``): every service of one country with its current
price and wait window, and a form per row that sets a new price from now on. Staff only;
anyone else gets 404."""

from __future__ import annotations

from flask import Blueprint, abort, g, request

from portal.numbers import catalog
from portal.web import views
from portal.accounts.users import FormError
from portal.routes.staff import staff_required
from portal.numbers.sms.countries import COUNTRIES

bp = Blueprint("prices", __name__)


def _row(country: str, service, errors=None, saved=False) -> dict:
    current = catalog.offer(country, service.code)
    return {"country": country, "service": service, "price": current.price if current else None,
            "errors": errors or {}, "saved": saved}


@bp.get("/staff/prices")
@staff_required
def index():
    country = request.args.get("country", "US")
    if country not in COUNTRIES:
        abort(404)
    rows = [_row(country, service) for service in catalog.services()]
    return views.render("pages/prices.html", "fragments/prices_table.html",
                      country=country, countries=sorted(COUNTRIES), rows=rows)


@bp.post("/staff/prices")
@staff_required
def update():
    country, code = request.form.get("country", ""), request.form.get("service", "")
    service = next((s for s in catalog.services() if s.code == code), None)
    if country not in COUNTRIES or service is None:
        abort(404)
    try:
        catalog.set_price(country, code, request.form.get("amount", ""), by=g.user)
    except FormError as invalid:
        return views.render("pages/prices.html", "fragments/prices_row.html", 422,
                          row=_row(country, service, invalid.errors), country=country,
                          countries=sorted(COUNTRIES), rows=[_row(country, service, invalid.errors)])
    row = _row(country, service, saved=True)
    return views.render("pages/prices.html", "fragments/prices_row.html", row=row,
                      country=country, countries=sorted(COUNTRIES), rows=[row])
