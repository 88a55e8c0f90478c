"""The ceiling for the portal benchmark: a bare Flask + peewee + SQLite balance endpoint
(no session, CSRF, headers, i18n or templates), reading the same database as the portal.
``/balance/<uid>`` reads the stored balance; ``/balance-sum/<uid>`` sums the ledger rows."""

from __future__ import annotations

import os

from flask import Flask
from peewee import BigIntegerField, CharField, IntegerField, Model, SqliteDatabase, fn

database = SqliteDatabase(os.environ["CEILING_DB"], pragmas={"journal_mode": "wal", "busy_timeout": 30000})


class Account(Model):
    code = CharField()
    balance = BigIntegerField()

    class Meta:
        database = database
        table_name = "account"


class Entry(Model):
    account_id = IntegerField()
    amount = BigIntegerField()

    class Meta:
        database = database
        table_name = "entry"


def create_app() -> Flask:
    app = Flask(__name__)

    @app.before_request
    def _connect():  # one connection per worker, kept open: the cheapest way there is
        database.connect(reuse_if_open=True)

    @app.get("/balance/<int:uid>")
    def balance(uid: int):
        cents = Account.select(Account.balance).where(Account.code == f"wallet:{uid}").scalar() or 0
        return f'<span id="balance">{cents / 100:.2f}</span>'

    @app.get("/balance-sum/<int:uid>")
    def balance_sum(uid: int):
        account = Account.select(Account.id).where(Account.code == f"wallet:{uid}").scalar()
        cents = Entry.select(fn.COALESCE(fn.SUM(Entry.amount), 0)).where(Entry.account_id == account).scalar()
        return f'<span id="balance">{cents / 100:.2f}</span>'

    return app
