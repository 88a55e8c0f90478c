"""The API's documentation page (``/api``, public): actions, parameters, answers, errors, and
the country and service tables the protocol's ids and codes come from."""

from __future__ import annotations

from flask import Blueprint, current_app

from portal.api import protocol
from portal.numbers import catalog
from portal.web import views

bp = Blueprint("api_docs", __name__)


@bp.get("/api")
def show():
    countries = [(protocol.country_id(iso), iso, protocol.COUNTRIES[iso].name)
                 for iso in catalog.countries_on_sale()]
    return views.render("pages/api_docs.html", "pages/api_docs.html",
                        endpoint=current_app.config["PUBLIC_URL"].rstrip("/") + "/stubs/handler_api.php",
                        countries=sorted(countries), services=catalog.services(),
                        errors=sorted(protocol.ERRORS))
