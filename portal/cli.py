"""Command-line tools: ``flask --app portal ledger-check`` verifies the ledger's invariants,
``seed-demo`` creates the demo customers and prints their logins."""

from __future__ import annotations

import sys

import click
from flask import current_app

from portal import db, ledger
from portal.demo_seed import seed


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


@click.command("seed-demo")
def seed_demo():
    """Create the demo users (idempotent) and print their logins; demo mode only."""
    if "demo" not in (current_app.config["CARD_PROCESSOR"], current_app.config["CRYPTO_PROCESSOR"]):
        click.echo("seed-demo: a real processor is configured; no demo users created")
        return
    with db.connection():
        logins = seed(current_app.config)
    click.echo("Demo mode (embedded demo processor, no real money). Demo logins:")
    for role, email, password in logins:
        click.echo(f"  {role:<14} {email:<28} password: {password}")


def init_app(app) -> None:
    app.cli.add_command(ledger_check)
    app.cli.add_command(seed_demo)
