# The two commands of the README, and their helpers. Every target sets up what it needs.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SYSTEM_PACKAGES := chromium=chromium postgresql redis-server=redis-server

.PHONY: run test bench i18n setup system site clean

setup:
	@scripts/ensure-venv .venv

system:
	@scripts/ensure-apt $(SYSTEM_PACKAGES)

site: setup
	$(PY) build.py --out build/site

# The portal under gunicorn, serving the built policy site on the same origin, and beside it
# a consumer of its job queue (Ctrl-C stops both). Without Stripe or crypto keys it runs the
# demo processor and seeds demo users (logins printed). With REDIS_URL set the queue is on
# Redis, otherwise in a SQLite file under instance/.
WORKERS ?= 2
JOB_WORKERS ?= 4
run: setup
	$(PY) build.py --out build/site
	PUBLIC_URL=http://$(HOST):$(PORT) $(PY) -m flask --app portal seed-demo
	PUBLIC_URL=http://$(HOST):$(PORT) scripts/run-together \
		"$(PY) -m gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --preload --access-logfile - --logger-class portal.web.access_log.RedactingLogger 'portal:create_app()'" \
		"$(PY) -m flask --app portal jobs --workers $(JOB_WORKERS)"

# The suite on TEST_WORKERS processes (pytest-xdist): most of its time is spent waiting on
# servers, browsers and clocks, so two processes on two cores halve it.
TEST_WORKERS ?= 2
test: setup system
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: setup
	@scripts/ensure-apt wrk
	$(PY) bench/run.py

i18n: setup
	$(PY) -m translations.catalog extract

clean:
	rm -rf build .cache .venv .venv-bench
