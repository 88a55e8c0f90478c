"""Background-jobs benchmark (``make bench``; ``bench/run.py --only jobs``; or run this file).

The portal under gunicorn (2 sync workers, SQLite) with a job consumer beside it (embedded
queue), against a local fake upstream speaking the SMS-Activate protocol over HTTP, with
1,000 open rentals:

1. The browser's poll of a rental row (GET, htmx) at 16 connections (wrk, each request a
   random one of the 1,000 rows): req/s and p99, while the ticker polls the upstream.
2. Upstream calls per second, counted at the fake upstream during that run, beside what
   the old design would have made (one status call per browser poll of a waiting row).
3. The delay from an SMS arriving at the upstream to the customer's row showing it, polled
   (the ticker finds it) and pushed (``POST /webhooks/sms/sms-activate`` right after):
   p50 and p99 over 40 SMS each, seen by a client reading the row every 50 ms.
4. Outbox deliveries per second: 2,000 notification e-mails to a local SMTP server.

``bench/run.py --only jobs --only rentals`` prints the rent-poll-refund cycle beside it.

Prints tables; asserts nothing. Targets: row poll p99 under 25 ms; one batched upstream call
per tick (0.5/s) whatever the number of waiting rentals; delay under 2.5 s polled and under
1 s pushed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from portal_bench import _free_port, _gunicorn, _session_cookie, _wait, _wrk  # noqa: E402
from report import save, table  # noqa: E402

OPEN_RENTALS = 1_000
DELAY_SAMPLES = 40
MAILS = 2_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("jobs")
    group.add_argument("--jobs-seconds", type=int, default=10, help="wrk duration of the row poll")


def _prepare(work: Path, upstream_url: str, api_key: str, smtp_port: int) -> tuple[dict, list[tuple[str, str]]]:
    """Build the site and the database: one customer with OPEN_RENTALS waiting rentals."""
    site = work / "site"
    subprocess.run([sys.executable, "build.py", "--out", str(site)], cwd=ROOT, check=True,
                   capture_output=True)
    env = {"DATABASE_URL": f"sqlite:///{work / 'portal.sqlite3'}", "SITE_DIR": str(site),
           "SECRET_KEY": "bench-secret", "PUBLIC_URL": "http://127.0.0.1",
           "QUEUE_FILE": str(work / "queue.sqlite3"), "SMS_PROVIDER": "sms-activate",
           "SMS_ACTIVATE_URL": upstream_url, "SMS_ACTIVATE_KEY": api_key,
           "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port)}
    from portal import create_app
    from portal.accounts import users
    from portal.money import ledger
    from portal.numbers import catalog, rentals
    from portal.site_versions import published
    from portal.store import db

    os.environ.update(env)
    app = create_app(dict(env))
    created = []
    with app.app_context(), db.connection():
        catalog.seed_demo()
        user = users.register(email="bench@example.com", password="bench password 1", language="en",
                              country="GB", accepted=True, terms=published(str(site), "2026-11-24", "en"),
                              params={"time_cost": 1, "memory_cost": 8, "parallelism": 1})
        ledger.post("bench", "deposit", [(ledger.house("card_clearing"), -10**9), (ledger.wallet(user.id), 10**9)])
        for _ in range(OPEN_RENTALS + 2 * DELAY_SAMPLES):
            rental = rentals.rent(user, "GB", "wa")
            created.append((rental.reference, rental.activation_id))
    db.database.close_all()
    return env, created


def _consumer(env: dict, log: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "portal", "jobs"], cwd=ROOT,
                               env={**os.environ, **env}, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while b"Huey consumer started" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the consumer did not start")
        time.sleep(0.1)
    return process


def _row_poll(base: str, cookie: str, references: list[str], seconds: int, work: Path):
    script = work / "rows.lua"
    script.write_text("paths = {" + ",".join(f'"/rentals/{r}"' for r in references) + "}\n"
                      "request = function() return wrk.format(\"GET\", paths[math.random(#paths)]) end\n")
    headers = {"Cookie": f"portal_session={cookie}", "HX-Request": "true"}
    return _wrk(base + "/", seconds, headers, script)


def _delays(base: str, cookie: str, samples: list[tuple[str, str]], upstream, push: bool) -> list[float]:
    """Seconds from each SMS reaching the upstream to its row showing it."""
    delays: list[float] = []
    lock = threading.Lock()

    def watch(reference: str, activation_id: str, at: float) -> None:
        time.sleep(max(0.0, at - time.monotonic()))
        began = time.monotonic()
        upstream.deliver(activation_id, "123456", "Your code 123456")
        if push:
            request = urllib.request.Request(
                f"{base}/webhooks/sms/sms-activate", method="POST",
                data=json.dumps({"activationId": activation_id, "code": "123456"}).encode(),
                headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()
        row = urllib.request.Request(f"{base}/rentals/{reference}",
                                     headers={"Cookie": f"portal_session={cookie}", "HX-Request": "true"})
        while time.monotonic() - began < 30:
            if 'class="sms"' in urllib.request.urlopen(row, timeout=10).read().decode():
                with lock:
                    delays.append(time.monotonic() - began)
                return
            time.sleep(0.05)

    start = time.monotonic() + 0.5
    threads = [threading.Thread(target=watch, args=(ref, act, start + i * random.uniform(0.1, 0.3)))
               for i, (ref, act) in enumerate(samples)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return delays


def _outbox_rate(env: dict) -> tuple[float, int]:
    """Write MAILS e-mails to the outbox (one transaction) and time until all are sent."""
    from portal import create_app, jobs
    from portal.jobs import outbox
    from portal.store import db
    from portal.store.models import OutboxMessage

    app = create_app(dict(env))
    with app.app_context(), db.connection():
        with db.money_transaction():
            for number in range(MAILS):
                outbox.add(key=f"bench:{number}", channel="email", target=f"c{number}@example.com",
                           kind="ticket_received", subject="Bench", body="Hello")
        began = time.monotonic()
        for _ in range(4):  # one job per consumer worker; the ticker adds more
            jobs.deliver_soon()
        while OutboxMessage.select().where(OutboxMessage.state == "sent").count() < MAILS:
            if time.monotonic() - began > 300:
                break
            time.sleep(0.05)
        sent = OutboxMessage.select().where(OutboxMessage.state == "sent").count()
        return sent / (time.monotonic() - began), sent


def _quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else values[0]


def measure(seconds: int) -> dict:
    from aiosmtpd.controller import Controller

    from tests.sms.fake_upstream import FakeUpstream

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            return "250 OK"

    work = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
    upstream = FakeUpstream().start()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=_free_port())
    smtp.start()
    server = consumer = None
    try:
        env, created = _prepare(work, upstream.url, upstream.api_key, smtp.port)
        waiting, polled_samples, pushed_samples = (created[:OPEN_RENTALS], created[OPEN_RENTALS:-DELAY_SAMPLES],
                                                   created[-DELAY_SAMPLES:])
        port = _free_port()
        server = _gunicorn("portal:create_app()", port, env, ROOT)
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/login")
        consumer = _consumer(env, work / "jobs.log")
        cookie = _session_cookie(base)
        time.sleep(3)  # the ticker's first ticks
        calls_before, counted_from = dict(_count(upstream)), time.monotonic()
        rps, p99 = _row_poll(base, cookie, [ref for ref, _ in waiting], seconds, work)
        elapsed = time.monotonic() - counted_from
        calls = {action: (n - calls_before.get(action, 0)) / elapsed for action, n in _count(upstream).items()}
        polled = _delays(base, cookie, polled_samples, upstream, push=False)
        pushed = _delays(base, cookie, pushed_samples, upstream, push=True)
        rate, sent = _outbox_rate(env)
        return {"row_poll": {"rps": rps, "p99_ms": p99}, "upstream_calls_per_s": calls,
                "old_design_calls_per_s": rps, "delay_polled_s": polled, "delay_pushed_s": pushed,
                "outbox_per_s": rate, "outbox_sent": sent}
    finally:
        for process in (consumer, server):
            if process:
                process.terminate()
                process.wait(timeout=15)
        upstream.stop()
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)


def _count(upstream) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in upstream.calls():
        counts[call.get("action", "?")] = counts.get(call.get("action", "?"), 0) + 1
    return counts


def run(args) -> int:
    print(f"\nBackground jobs: portal under gunicorn (2 sync workers, SQLite) and one job consumer "
          f"(embedded queue), fake SMS-Activate upstream on loopback, {OPEN_RENTALS} open rentals")
    result = measure(args.jobs_seconds)
    poll = result["row_poll"]
    polled, pushed = result["delay_polled_s"], result["delay_pushed_s"]
    calls = result["upstream_calls_per_s"]
    rows = [
        ["row poll at 16 connections", f"{poll['rps']:.0f} req/s", f"p99 {poll['p99_ms']:.1f} ms", "p99 < 25 ms"],
        ["upstream calls (all actions)", f"{sum(calls.values()):.2f}/s",
         f"getActiveActivations {calls.get('getActiveActivations', 0):.2f}/s",
         f"old design: {result['old_design_calls_per_s']:.0f}/s (ratio "
         f"{sum(calls.values()) / result['old_design_calls_per_s']:.5f})"],
        ["SMS shown after arrival, polled", f"p50 {_quantile(polled, 50):.2f} s", f"p99 {_quantile(polled, 99):.2f} s",
         f"< 2.5 s ({len(polled)}/{DELAY_SAMPLES} seen)"],
        ["SMS shown after arrival, pushed", f"p50 {_quantile(pushed, 50):.2f} s", f"p99 {_quantile(pushed, 99):.2f} s",
         f"< 1 s ({len(pushed)}/{DELAY_SAMPLES} seen)"],
        ["outbox deliveries (SMTP)", f"{result['outbox_per_s']:.0f}/s", f"{result['outbox_sent']} sent", ""],
    ]
    print(table(["measure", "value", "detail", "goal / reference"], rows))
    save("jobs", result)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
