"""Rentals benchmark (``make bench``; ``bench/run.py --only rentals``; or run this file).

The rent-poll-refund cycle of a customer whose SMS never comes, with 16 customers at once
on loopback, against the portal under gunicorn (2 sync workers, SQLite, the simulator set
to never deliver, a 1-second wait window). Each customer, in a loop: rents a number (POST
/rentals), polls its row once (GET, htmx), and for every earlier number whose window has
passed polls the row (which now offers the refund) and requests the refund (POST). After
the run time no new numbers are rented and the open ones are refunded.

Prints cycles/s (a cycle: rent, poll, poll after the window, refund) and the median and p99
latency of each step; checks that every number was refunded exactly once and that the
ledger is sound. Asserts nothing else.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from portal_bench import _free_port, _gunicorn, _wait  # noqa: E402
from report import save, table  # noqa: E402

CUSTOMERS = 16
PASSWORD = "bench password 1"
FUNDS = 100_000  # cents per customer: far more than the numbers open at once
WINDOW_SECONDS = 1
OFFER = "US:wa"
ROW = re.compile(r'id="rental-(rent_[A-Za-z0-9_-]+)"')
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rentals")
    group.add_argument("--rentals-seconds", type=int, default=10,
                       help="how long the customers keep renting")


def _prepare(work: Path) -> dict:
    """Build the site; create the database, the catalog (wa with a 1 s window) and the
    customers with their funds."""
    site = work / "site"
    subprocess.run([sys.executable, "build.py", "--out", str(site)], cwd=ROOT, check=True,
                   capture_output=True)
    env = {"DATABASE_URL": f"sqlite:///{work / 'portal.sqlite3'}", "SITE_DIR": str(site),
           "SECRET_KEY": "bench-secret", "PUBLIC_URL": "http://127.0.0.1",
           "QUEUE_FILE": str(work / "queue.sqlite3"),
           "SMS_PROVIDER": "simulator", "SMS_SIMULATOR": "default=never"}
    from portal import create_app
    from portal.accounts import users
    from portal.numbers import catalog
    from portal.store import db
    from portal.money import ledger
    from portal.store.models import Service
    from portal.site_versions import published

    app = create_app(dict(env))
    fast = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    with db.connection():
        catalog.seed_demo()
        Service.update(wait_seconds=WINDOW_SECONDS).where(Service.code == "wa").execute()
        terms = published(str(site), "2026-11-24", "en")
        for index in range(CUSTOMERS):
            user = users.register(email=f"c{index}@example.com", password=PASSWORD,
                                     language="en", country="US", accepted=True, terms=terms,
                                     params=fast)
            ledger.post(f"bench:{index}", "deposit",
                        [(ledger.house("card_clearing"), -FUNDS), (ledger.wallet(user.id), FUNDS)])
    db.database.close_all()
    del app
    return env


def _sign_in(base: str, email: str) -> tuple[str, str]:
    """A signed-in session cookie (holding its CSRF secret) and its CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    form = urllib.parse.urlencode({"csrf_token": TOKEN.search(page).group(1), "email": email,
                                   "password": PASSWORD}).encode()
    opener.open(f"{base}/login", data=form)
    page = opener.open(f"{base}/rentals").read().decode()
    cookie = next(c.value for c in jar if c.name == "portal_session")
    return cookie, TOKEN.search(page).group(1)


class Customer:
    """One customer's loop; records the latency of every step in ``timings``."""

    def __init__(self, port: int, cookie: str, token: str, timings: dict, errors: list):
        self.port, self.timings, self.errors = port, timings, errors
        self.headers = {"Cookie": f"portal_session={cookie}", "HX-Request": "true",
                        "X-CSRFToken": token}
        self.cycles = 0

    def _request(self, step: str, method: str, path: str, body: dict | None = None) -> str:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        self.timings[step].append((time.perf_counter() - began) * 1000)
        if response.status != 200:
            self.errors.append(f"{step} {path}: {response.status}")
        return text

    def _finish(self, reference: str) -> None:
        row = self._request("poll (window passed)", "GET", f"/rentals/{reference}")
        if "Request refund" not in row:
            self.errors.append(f"{reference}: no refund offered after the window")
        answer = self._request("refund", "POST", f"/rentals/{reference}/refund")
        if "was credited to your balance" not in answer:
            self.errors.append(f"{reference}: refund not credited")
        self.cycles += 1

    def run(self, until: float) -> None:
        open_rentals: deque[tuple[str, float]] = deque()
        while time.monotonic() < until:
            answer = self._request("rent", "POST", "/rentals",
                                   {"offer": OFFER, "token": secrets.token_urlsafe(16)})
            found = ROW.search(answer)
            if not found:
                self.errors.append("rent: no rental row")
                continue
            open_rentals.append((found.group(1), time.monotonic()))
            self._request("poll (waiting)", "GET", f"/rentals/{found.group(1)}")
            while open_rentals and time.monotonic() - open_rentals[0][1] > WINDOW_SECONDS + 0.01:
                self._finish(open_rentals.popleft()[0])
        for reference, rented in open_rentals:  # drain: refund what is still open
            time.sleep(max(0.0, rented + WINDOW_SECONDS + 0.01 - time.monotonic()))
            self._finish(reference)


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 2 else samples[0]


def _books(env: dict) -> tuple[list[str], int, int]:
    """Ledger problems, and the customers' total balance against what they were given."""
    from portal import create_app
    from portal.store import db
    from portal.money import ledger
    from portal.store.models import User

    create_app(dict(env))
    with db.connection():
        total = sum(ledger.balance(u.id) for u in User.select())
        return ledger.check(), total, FUNDS * CUSTOMERS


def measure(seconds: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="rentals-bench-"))
    server = None
    try:
        env = _prepare(work)
        port = _free_port()
        server = _gunicorn("portal:create_app()", port, env, ROOT)
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/login")
        timings: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        customers = [Customer(port, *_sign_in(base, f"c{i}@example.com"), timings, errors)
                     for i in range(CUSTOMERS)]
        began = time.monotonic()
        threads = [threading.Thread(target=c.run, args=(began + seconds,)) for c in customers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        problems, total, given = _books(env)
        return {
            "seconds": elapsed, "cycles": sum(c.cycles for c in customers),
            "requests": sum(len(v) for v in timings.values()),
            "steps": {step: {"count": len(v), "median_ms": statistics.median(v), "p99_ms": _p99(v)}
                      for step, v in timings.items()},
            "errors": errors[:20], "error_count": len(errors), "ledger_problems": problems,
            "balances_restored": total == given,
        }
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def run(args) -> int:
    print(f"\nRent-poll-refund cycle: {CUSTOMERS} customers at once, portal under gunicorn "
          f"(2 sync workers, SQLite), simulator never delivers, {WINDOW_SECONDS} s wait window, "
          f"{args.rentals_seconds} s of renting then the open numbers refunded, loopback")
    result = measure(args.rentals_seconds)
    print(f"cycles/s: {result['cycles'] / result['seconds']:.1f} ({result['cycles']} cycles in "
          f"{result['seconds']:.1f} s; {result['requests'] / result['seconds']:.0f} requests/s)")
    rows = [[step, data["count"], f"{data['median_ms']:.1f}", f"{data['p99_ms']:.1f}"]
            for step, data in result["steps"].items()]
    print(table(["step", "requests", "median ms", "p99 ms"], rows))
    sound = not result["ledger_problems"] and result["balances_restored"] and not result["error_count"]
    print(f"every number refunded once, ledger sound, balances restored: {'yes' if sound else 'NO'}"
          + ("" if sound else f" ({result['error_count']} errors, first: {result['errors'][:3]}; "
                              f"ledger: {result['ledger_problems'][:3]})"))
    save("rentals", result)
    return 0 if sound else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
