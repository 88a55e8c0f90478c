"""Held card payments in the staff console (``/staff/held``, staff only): payments of
another amount or currency than their deposit was opened for, which the webhook held
instead of crediting. Staff credit one with what was paid, or return it to the card."""

from __future__ import annotations

from flask import Blueprint, current_app, g

from portal.money import deposits, processors
from portal.web import views
from portal.accounts.users import FormError
from portal.store.models import Deposit
from portal.payments.errors import ProcessorError
from portal.routes.staff import staff_required

bp = Blueprint("staff_held", __name__, url_prefix="/staff/held")


def _list(status: int = 200, errors: dict | None = None, done: str | None = None):
    rows = [(deposit, deposits.held_amount(deposit)) for deposit in deposits.held()]
    return views.render("pages/staff_held.html", "fragments/staff_held_list.html", status,
                      rows=rows, errors=errors or {}, done=done)


@bp.get("/")
@staff_required
def index():
    return _list()


def _held(deposit_id: int) -> Deposit | None:
    """The deposit if it is still held; None when it was decided already; 404 if none."""
    deposit = views.owned_or_404(Deposit.select().where(Deposit.id == deposit_id))
    return deposit if deposit.state == "held" else None


@bp.post("/<id:deposit_id>/credit")
@staff_required
def credit(deposit_id: int):
    deposit = _held(deposit_id)
    if deposit is None:
        return _list(409, {"held": "held.not_held"})
    try:
        deposits.release_held(deposit, g.user)
    except FormError as refused:
        return _list(422, refused.errors)
    return _list(done="credited")


@bp.post("/<id:deposit_id>/return")
@staff_required
def send_back(deposit_id: int):
    deposit = _held(deposit_id)
    if deposit is None:
        return _list(409, {"held": "held.not_held"})
    try:
        processors.return_held_payment(deposit)
    except ProcessorError:
        current_app.logger.exception("held payment %s not returned", deposit.reference)
        return _list(502, {"held": "held.not_returned"})
    deposits.return_held(deposit, g.user)
    return _list(done="returned")
