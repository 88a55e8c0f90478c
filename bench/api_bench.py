"""Customer API benchmark (``make bench``; ``bench/run.py --only api``; or run this file).

The portal under gunicorn (2 sync workers, SQLite, the simulator never delivering, a 1 s
wait window):

1. ``getStatus`` of one activation at 16 connections (wrk): req/s and p99, beside the bare
   Flask + peewee balance endpoint on the same database in the same run (the ceiling).
2. 16 API clients each looping getNumber -> getStatus -> (the window passes) setStatus 8,
   the cancel crediting the price: cycles per second, every cancel credited once.

Prints tables; asserts nothing. Target: getStatus at least 70% of the ceiling's req/s.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from portal_bench import _free_port, _gunicorn, _wait, _wrk  # noqa: E402
from report import save, table  # noqa: E402

CLIENTS = 16
WINDOW_SECONDS = 1
FUNDS = 100_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("api")
    group.add_argument("--api-seconds", type=int, default=10, help="wrk duration and cycle run time")


def _prepare(work: Path) -> tuple[dict, list[str], int, int]:
    site = work / "site"
    subprocess.run([sys.executable, "build.py", "--out", str(site)], cwd=ROOT, check=True, capture_output=True)
    env = {"DATABASE_URL": f"sqlite:///{work / 'portal.sqlite3'}", "SITE_DIR": str(site),
           "SECRET_KEY": "bench-secret", "PUBLIC_URL": "http://127.0.0.1",
           "QUEUE_FILE": str(work / "queue.sqlite3"), "SMS_PROVIDER": "simulator",
           "SMS_SIMULATOR": "default=never", "API_RATE_PER_SECOND": "100000"}
    from portal import create_app
    from portal.accounts import users
    from portal.api import keys
    from portal.money import ledger
    from portal.numbers import catalog, rentals
    from portal.site_versions import published
    from portal.store import db
    from portal.store.models import Service

    app = create_app(dict(env))
    made = []
    with app.app_context(), db.connection():
        catalog.seed_demo()
        Service.update(wait_seconds=WINDOW_SECONDS).where(Service.code == "wa").execute()
        terms = published(str(site), "2026-11-24", "en")
        for index in range(CLIENTS):
            user = users.register(email=f"api{index}@example.com", password="bench password 1", language="en",
                                  country="US", accepted=True, terms=terms,
                                  params={"time_cost": 1, "memory_cost": 8, "parallelism": 1})
            ledger.post(f"bench:{index}", "deposit",
                        [(ledger.house("card_clearing"), -FUNDS), (ledger.wallet(user.id), FUNDS)])
            made.append(keys.create(user, "bench")[1])
            if index == 0:
                rental = rentals.rent(user, "US", "wa")
                first_user, rental_id = user.id, rental.id
    db.database.close_all()
    return env, made, first_user, rental_id


def _call(port: int, key: str, **params) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/stubs/handler_api.php?" + urllib.parse.urlencode({"api_key": key, **params}))
    text = connection.getresponse().read().decode()
    connection.close()
    return text


def _cycles(port: int, key: str, until: float, counts: dict, errors: list) -> None:
    waiting: deque[tuple[str, float]] = deque()
    while time.monotonic() < until or waiting:
        if time.monotonic() < until:
            answer = _call(port, key, action="getNumber", service="wa", country="187")
            if not answer.startswith("ACCESS_NUMBER:"):
                errors.append(answer)
                continue
            activation = answer.split(":")[1]
            if _call(port, key, action="getStatus", id=activation) != "STATUS_WAIT_CODE":
                errors.append("status")
            waiting.append((activation, time.monotonic()))
        while waiting and (time.monotonic() - waiting[0][1] > WINDOW_SECONDS + 0.05 or time.monotonic() >= until):
            activation, rented = waiting.popleft()
            time.sleep(max(0.0, rented + WINDOW_SECONDS + 0.05 - time.monotonic()))
            answer = _call(port, key, action="setStatus", id=activation, status="8")
            if answer != "ACCESS_CANCEL":
                errors.append(answer)
            counts["cycles"] = counts.get("cycles", 0) + 1


def measure(seconds: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="api-bench-"))
    servers = []
    try:
        env, api_keys, uid, rental_id = _prepare(work)
        port, ceiling_port = _free_port(), _free_port()
        servers.append(_gunicorn("portal:create_app()", port, env, ROOT))
        servers.append(_gunicorn("portal_ceiling:create_app()", ceiling_port,
                                 {"CEILING_DB": str(work / "portal.sqlite3")}, ROOT / "bench"))
        _wait(f"http://127.0.0.1:{port}/login")
        _wait(f"http://127.0.0.1:{ceiling_port}/balance/{uid}")
        status_url = (f"http://127.0.0.1:{port}/stubs/handler_api.php?api_key={api_keys[0]}"
                      f"&action=getStatus&id={rental_id}")
        ceiling_url = f"http://127.0.0.1:{ceiling_port}/balance/{uid}"
        for url in (status_url, ceiling_url):
            _wrk(url, 2, {})
        ceiling = _wrk(ceiling_url, seconds, {})
        status = _wrk(status_url, seconds, {})
        counts: dict = {}
        errors: list = []
        began = time.monotonic()
        threads = [threading.Thread(target=_cycles, args=(port, key, began + seconds, counts, errors))
                   for key in api_keys]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        from portal import create_app
        from portal.money import ledger
        from portal.store import db
        from portal.store.models import User

        create_app(dict(env))
        with db.connection():
            problems = ledger.check()
            restored = all(ledger.balance(u.id) == FUNDS for u in User.select() if u.id != uid)
        return {"ceiling": ceiling, "getStatus": status, "cycles": counts.get("cycles", 0),
                "seconds": elapsed, "errors": errors[:10], "error_count": len(errors),
                "ledger_problems": problems, "balances_restored": restored}
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def run(args) -> int:
    print(f"\nCustomer API: portal under gunicorn (2 sync workers, SQLite), 16 connections (wrk) and "
          f"{CLIENTS} API clients, simulator never delivers, {WINDOW_SECONDS} s wait window, loopback")
    result = measure(args.api_seconds)
    (c_rps, c_p99), (s_rps, s_p99) = result["ceiling"], result["getStatus"]
    print(table(["endpoint", "req/s", "p99 ms", "of ceiling"], [
        ["ceiling: bare Flask+peewee, stored balance", f"{c_rps:.0f}", f"{c_p99:.1f}", "100%"],
        ["portal: getStatus", f"{s_rps:.0f}", f"{s_p99:.1f}", f"{s_rps / c_rps:.0%}"],
    ]))
    sound = not result["error_count"] and not result["ledger_problems"] and result["balances_restored"]
    print(f"getNumber -> getStatus -> setStatus 8 cycles/s: {result['cycles'] / result['seconds']:.1f} "
          f"({result['cycles']} in {result['seconds']:.1f} s); every cancel credited once, ledger sound: "
          f"{'yes' if sound else 'NO'}" + ("" if sound else f" ({result['error_count']} errors: {result['errors'][:3]})"))
    save("api", result)
    return 0 if sound else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
