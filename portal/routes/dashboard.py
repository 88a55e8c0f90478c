"""Dashboard: the balance fragment, the recent numbers (with their refund buttons: the policy
says failed-SMS refunds are asked for from the dashboard), the deposits list, the statement
and its CSV export."""

from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, Response, current_app, g, request

from portal.money import card_refunds, deposits, ledger
from portal.numbers import rentals
from portal.web import views
from portal.money.statement import page as statement_page

bp = Blueprint("dashboard", __name__)


_PAGE = re.compile(r"[1-9][0-9]{0,5}")  # ASCII digits: isdigit() takes "²" (int() refuses it)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if _PAGE.fullmatch(raw) else 1


RECENT_NUMBERS = 5


def _deposits(page: str, limit: int, **context):
    """A page listing the user's newest deposits, each with its refund meter."""
    shown = deposits.newest(g.user.id, limit)
    return views.render(page, "fragments/deposit_list.html", deposits=shown,
                        meters=card_refunds.meters(shown), **context)


@bp.get("/dashboard")
@views.login_required
def index():
    numbers = rentals.newest(g.user.id, RECENT_NUMBERS)
    return _deposits("pages/dashboard.html", 10, rentals=numbers,
                     sms=rentals.messages_of([rental.id for rental in numbers]))


@bp.get("/dashboard/balance")
@views.login_required
def balance():
    return views.render("fragments/balance.html", "fragments/balance.html",
                        header_balance=ledger.balance(g.user.id))


@bp.get("/deposits")
@views.login_required
def deposit_list():
    return _deposits("pages/deposits.html", 200)


@bp.get("/statement")
@views.login_required
def statement():
    page = _page_number()
    lines, more = statement_page(g.user.id, page, current_app.config["STATEMENT_PAGE_SIZE"])
    return views.render("pages/statement.html", "fragments/statement.html",
                      lines=lines, page=page, more=more)


def _csv_rows(user_id: int):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["entry_id", "time_utc", "kind", "reference", "amount_cents",
                     "balance_after_cents", "currency"])
    for entry in ledger.all_entries(user_id):
        writer.writerow([entry.id, entry.created_at.isoformat(), entry.txn.kind,
                         entry.txn.idempotency_key, entry.amount, entry.balance_after, "USD"])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


@bp.get("/statement.csv")
@views.login_required
def statement_csv():
    rows = list(_csv_rows(g.user.id))
    return Response(rows, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="statement.csv"',
        "Cache-Control": "no-store",
    })
