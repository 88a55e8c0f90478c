"""Two gunicorn workers sharing nothing but the database: a session made by one worker is
honoured by the other, and the sign-in rate limits (per account, per client address) count
failures from both."""

from __future__ import annotations

import http.cookiejar
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from portal.store import db
from portal.config import defaults
from portal_pg import free_port
from portal_testing import PASSWORD, make_app
from tests import gunicorn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_workers(db_url, site_dir, tmp_path):
    make_app(db_url, site_dir)  # migrate first, as `make run` does with --preload
    db.database.obj.close_all()
    port, log = free_port(), tmp_path / "access.log"
    env = {**os.environ, "DATABASE_URL": db_url, "SITE_DIR": site_dir, "SECRET_KEY": "shared-secret",
           "PUBLIC_URL": "http://127.0.0.1", "STRIPE_SECRET_KEY": "", "CRYPTO_API_KEY": "",
           "QUEUE_FILE": str(tmp_path / "queue.sqlite3")}
    server = gunicorn.start(env, port, "--workers", "2", "--access-logfile", str(log),
                            "--access-logformat", "%(p)s %(r)s %(s)s")
    base = f"http://127.0.0.1:{port}"
    yield base, log
    gunicorn.stop(server)


class Browser:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, path, form=None):
        data = None
        if form is not None:
            page = self.opener.open(f"{self.base}{path}").read().decode()
            form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1), **form}
            data = urllib.parse.urlencode(form).encode()
        try:
            response = self.opener.open(f"{self.base}{path}", data=data)
            return response.status, response.url
        except urllib.error.HTTPError as error:
            return error.code, error.url


def test_sessions_and_the_login_limit_hold_across_two_workers(two_workers):
    base, log = two_workers
    ann = Browser(base)
    status, url = ann.open("/register", {"email": "ann@example.com", "password": PASSWORD,
                                         "country": "US", "language": "en", "accept_terms": "yes"})
    assert (status, url) == (200, f"{base}/dashboard")
    with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent: one busy worker leaves the next to the other
        assert list(pool.map(lambda _: ann.open("/dashboard")[0], range(40))) == [200] * 40
    for _ in range(5):
        assert Browser(base).open("/login", {"email": "ann@example.com", "password": "wrong password"})[0] == 401
    assert Browser(base).open("/login", {"email": "ann@example.com", "password": PASSWORD})[0] == 429
    # the failures of this address across accounts count on both workers too (5 above)
    for n in range(defaults()["LOGIN_MAX_FAILURES_PER_ADDRESS"] - 5):
        assert Browser(base).open("/login", {"email": f"u{n}@example.com", "password": "wrong password"})[0] == 401
    assert Browser(base).open("/login", {"email": "bob@example.com", "password": "wrong password"})[0] == 429
    time.sleep(0.5)  # let gunicorn flush its access log
    lines = log.read_text().splitlines()
    dashboard_pids = {line.split()[0] for line in lines if "GET /dashboard" in line and line.endswith(" 200")}
    failure_pids = {line.split()[0] for line in lines if "POST /login" in line and line.endswith(" 401")}
    assert len(dashboard_pids | failure_pids) == 2, "both workers must have served requests"
