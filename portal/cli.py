"""Command-line tools: ``flask --app portal ledger-check`` verifies the ledger's invariants,
``reconcile`` applies what the processors say happened and no webhook told, ``seed-demo``
creates the demo customers and prints their logins, ``jobs`` runs a job consumer,
``api-key create EMAIL`` prints a new API key."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.store import db
from portal.money import gateways, ledger, reconcile as reconciliation
from portal.demo_seed import seed
from portal.payments.errors import ProcessorError


@click.command("ledger-check")
def ledger_check():
    """Exit non-zero naming the first violated ledger invariant."""
    with db.connection():
        problems = ledger.check()
    if problems:
        click.echo(f"ledger-check: FAILED: {problems[0]}", err=True)
        if len(problems) > 1:
            click.echo(f"({len(problems) - 1} more)", err=True)
        sys.exit(1)
    click.echo("ledger-check: ok")


@click.command("reconcile")
@with_appcontext
def reconcile():
    """Ask Stripe and the crypto processor what happened since the last run and apply what
    is missing (idempotent); print what was healed."""
    try:
        with db.connection():
            report = reconciliation.reconcile(gateways.card(), gateways.crypto())
    except ProcessorError as unreachable:
        click.echo(f"reconcile: FAILED: a processor could not be asked: {unreachable}", err=True)
        sys.exit(1)
    for note in report.skipped:
        click.echo(f"skipped {note}")
    for label in report.healed:
        click.echo(f"healed {label}")
    for label in report.refused:
        click.echo(f"refused {label}", err=True)
    click.echo(f"reconcile: {report.seen} processor records read, {len(report.healed)} healed, "
               f"{len(report.refused)} refused")


@click.command("seed-demo")
def seed_demo():
    """Create the demo users (idempotent) and print their logins; demo mode only."""
    if gateways.demo_card() is None and gateways.demo_crypto() is None:
        click.echo("seed-demo: a real processor is configured; no demo users created")
        return
    with db.connection():
        logins = seed(current_app.config)
    click.echo("Demo mode (embedded demo processor, no real money). Demo logins:")
    for role, email, password in logins:
        click.echo(f"  {role:<14} {email:<28} password: {password}")


@click.group("api-key")
def api_key():
    """API keys of customers."""


@api_key.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the key is for (shown on the account page).")
def api_key_create(email: str, name: str):
    """Print a new API key for the customer EMAIL (shown once; only its hash is kept)."""
    from portal.accounts.users import normalize_email
    from portal.api import keys
    from portal.store.models import User

    with db.connection():
        user = User.get_or_none(User.email == normalize_email(email))
        if user is None:
            click.echo(f"api-key: no account {email}", err=True)
            sys.exit(1)
        row, key = keys.create(user, name)
    click.echo(key)


def init_app(app) -> None:
    from portal.jobs.consumer import run_consumer

    app.cli.add_command(run_consumer)
    app.cli.add_command(ledger_check)
    app.cli.add_command(reconcile)
    app.cli.add_command(seed_demo)
    app.cli.add_command(api_key)
