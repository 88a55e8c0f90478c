"""Portal benchmark (``make bench``; ``bench/run.py --only portal``; or run this file).

1. Under gunicorn (2 sync workers) at 16 connections (wrk) on loopback: req/s and p99 of
   the product's balance fragment and dashboard (ten deposits), side by side with a bare Flask + peewee
   endpoint on the same database in the same run (the ceiling), and that bare endpoint
   reading the balance as a SUM over ledger rows.
2. The product's balance read (``ledger.balance``) with 1,000 and with 1,000,000 ledger
   rows: it reads one stored row, so it must not grow with the rows (a SUM is shown too).

Prints tables; asserts nothing. Targets (at 16 connections): the balance fragment >= 75% and
the dashboard (10 card deposits with their refund meters) >= 60% of the ceiling's req/s, p99
under 30 ms for both.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password 1"
EMAIL = "bench@example.com"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("portal")
    group.add_argument("--portal-seconds", type=int, default=10, help="wrk duration per endpoint")
    group.add_argument("--portal-rows", type=int, default=1_000_000, help="ledger rows for the balance read")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def _gunicorn(app_spec: str, port: int, env: dict, chdir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--chdir", str(chdir), "--log-level", "warning", app_spec],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _prepare(work: Path) -> tuple[dict, int]:
    """Build the site, create the database with one customer and some history."""
    site = work / "site"
    subprocess.run([sys.executable, "build.py", "--out", str(site)], cwd=ROOT, check=True,
                   capture_output=True)
    env = {"DATABASE_URL": f"sqlite:///{work / 'portal.sqlite3'}", "SITE_DIR": str(site),
           "SECRET_KEY": "bench-secret", "PUBLIC_URL": "http://127.0.0.1",
           "QUEUE_FILE": str(work / "queue.sqlite3")}
    from portal import create_app
    from portal.accounts import users
    from portal.store import db
    from portal.money import deposits, ledger
    from portal.payments.card import CardPayment
    from portal.site_versions import published

    app = create_app(dict(env))
    with db.connection():
        terms = published(str(site), "2026-11-24", "en")
        user = users.register(email=EMAIL, password=PASSWORD, language="en", country="US",
                                 accepted=True, terms=terms, params=app.config["ARGON2"])
        for index in range(40):
            ledger.post(f"bench:{index}", "deposit",
                        [(ledger.house("card_clearing"), -1000), (ledger.wallet(user.id), 1000)])
        for index in range(10):  # the dashboard lists them, each with its refund meter
            deposit = deposits.open_deposit(user, method="card", amount_text="10", consent=False,
                                            terms=terms, ip="127.0.0.1", user_agent="bench")
            deposits.settle_card(CardPayment(
                deposit_reference=deposit.reference, session_id=f"cs_{index}", payment_intent=f"pi_{index}",
                amount_cents=1000, currency="USD", paid=True, failed=False, expired=False,
                event_id=f"evt_{index}", event_type="checkout.session.completed", created=0))
    return env, user.id


def _session_cookie(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": EMAIL, "password": PASSWORD}).encode()
    opener.open(f"{base}/login", data=form)
    opener.open(f"{base}/dashboard")  # as a browser would: the session now holds its CSRF secret
    return next(c.value for c in jar if c.name == "portal_session")


def _wrk(url: str, seconds: int, headers: dict, script: Path | None = None) -> tuple[float, float]:
    """req/s and p99 (ms) of wrk at 16 connections; ``script`` is a Lua file choosing requests."""
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx responses")
    return rps, p99


def http_table(seconds: int) -> list[tuple[str, float, float]]:
    work = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    servers = []
    try:
        env, uid = _prepare(work)
        portal_port, ceiling_port = _free_port(), _free_port()
        servers.append(_gunicorn("portal:create_app()", portal_port, env, ROOT))
        servers.append(_gunicorn("portal_ceiling:create_app()", ceiling_port,
                                 {"CEILING_DB": str(work / "portal.sqlite3")}, ROOT / "bench"))
        portal, ceiling = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{ceiling_port}"
        _wait(f"{portal}/login")
        _wait(f"{ceiling}/balance/{uid}")
        cookie = _session_cookie(portal)
        auth = {"Cookie": f"portal_session={cookie}"}
        cases = [
            ("ceiling: bare Flask+peewee, stored balance", f"{ceiling}/balance/{uid}", {}),
            ("bare Flask+peewee, SUM over its 50 entries", f"{ceiling}/balance-sum/{uid}", {}),
            ("portal: balance fragment (htmx)", f"{portal}/dashboard/balance", {**auth, "HX-Request": "true"}),
            ("portal: dashboard page", f"{portal}/dashboard", auth),
        ]
        for _name, url, headers in cases:  # warm up every worker (pool, templates, catalogs)
            _wrk(url, 2, headers)
        return [(name, *_wrk(url, seconds, headers)) for name, url, headers in cases]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def _fill(user_id: int, account_id: int, rows: int) -> None:
    """Append ``rows`` ledger entries (balanced pairs) to the wallet, fast, in one transaction."""
    from portal.store import db
    from portal.money import ledger
    from portal.store.fields import utcnow

    house = ledger.house("card_clearing").id
    now = utcnow().replace(tzinfo=None)
    start = (db.database.execute_sql("SELECT COALESCE(MAX(id), 0) FROM ledger_transaction").fetchone()[0])
    base = db.database.execute_sql("SELECT balance FROM account WHERE id = ?", (account_id,)).fetchone()[0]
    house_base = db.database.execute_sql("SELECT balance FROM account WHERE id = ?", (house,)).fetchone()[0]
    pairs = rows // 2
    with db.database.atomic("IMMEDIATE"):
        db.database.cursor().executemany(
            "INSERT INTO ledger_transaction (id, idempotency_key, kind, memo, created_at) VALUES (?, ?, 'deposit', '', ?)",
            ((start + i + 1, f"fill:{user_id}:{start + i}", now) for i in range(pairs)))
        db.database.cursor().executemany(
            "INSERT INTO entry (txn_id, account_id, amount, balance_after, created_at) VALUES (?, ?, ?, ?, ?)",
            (row for i in range(pairs) for row in (
                (start + i + 1, house, -1, house_base - (i + 1), now),
                (start + i + 1, account_id, 1, base + i + 1, now))))
        db.database.execute_sql("UPDATE account SET balance = balance + ? WHERE id = ?", (pairs, account_id))
        db.database.execute_sql("UPDATE account SET balance = balance - ? WHERE id = ?", (pairs, house))


def _median_ms(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def rows_table(total_rows: int) -> list[tuple[int, float, float]]:
    from peewee import fn

    from portal import create_app
    from portal.accounts import users
    from portal.store import db
    from portal.money import ledger
    from portal.store.models import Entry

    work = Path(tempfile.mkdtemp(prefix="portal-rows-"))
    try:
        site = work / "site"
        subprocess.run([sys.executable, "build.py", "--out", str(site)], cwd=ROOT, check=True, capture_output=True)
        app = create_app({"DATABASE_URL": f"sqlite:///{work / 'rows.sqlite3'}", "SITE_DIR": str(site),
                          "SECRET_KEY": "bench"})
        from portal.site_versions import published

        results = []
        with db.connection():
            user = users.register(email="rows@example.com", password=PASSWORD, language="en",
                                     country="US", accepted=True, terms=published(str(site), "2026-11-24", "en"),
                                     params=app.config["ARGON2"])
            wallet = ledger.wallet(user.id)
            filled = 0
            for target in (1_000, total_rows):
                _fill(user.id, wallet.id, target - filled)
                filled = target
                stored = _median_ms(lambda: ledger.balance(user.id), 2000)
                summed = _median_ms(lambda: Entry.select(fn.SUM(Entry.amount)).where(Entry.account == wallet.id).scalar(), 20)
                results.append((db.database.execute_sql("SELECT COUNT(*) FROM entry").fetchone()[0], stored, summed))
            assert ledger.check() == [], "the filled ledger must stay sound"
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args) -> int:
    if not shutil.which("wrk"):
        print("portal bench: wrk is not installed (`make bench` installs it)", file=sys.stderr)
        return 1
    print(f"\nPortal under gunicorn (2 sync workers), wrk 2 threads x 16 connections, {args.portal_seconds} s each, loopback")
    table = http_table(args.portal_seconds)
    ceiling = table[0][1]
    print(f"{'endpoint':<46} {'req/s':>9} {'of ceiling':>11} {'p99 ms':>8}")
    for name, rps, p99 in table:
        print(f"{name:<46} {rps:>9.0f} {rps / ceiling:>10.0%} {p99:>8.1f}")
    for (name, rps, p99), share in ((table[2], 0.75), (table[3], 0.60)):
        print(f"target: {name.split(': ', 1)[1]} >= {share:.0%} of the ceiling's req/s: "
              f"{'met' if rps >= share * ceiling else 'NOT met'}; p99 < 30 ms: {'met' if p99 < 30 else 'NOT met'}")
    print(f"\nBalance read with growing ledger (SQLite; median ms per read)")
    print(f"{'ledger rows':>12} {'ledger.balance (stored)':>24} {'SUM over entries':>18}")
    for rows, stored, summed in rows_table(args.portal_rows):
        print(f"{rows:>12,} {stored:>24.3f} {summed:>18.3f}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
