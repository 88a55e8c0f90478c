# The two commands of the README, and their helpers. Every target sets up what it needs.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SYSTEM_PACKAGES := chromium=chromium postgresql

.PHONY: run test bench i18n setup system site clean

setup:
	@scripts/ensure-venv .venv

system:
	@scripts/ensure-apt $(SYSTEM_PACKAGES)

site: setup
	$(PY) build.py --out build/site

# The portal under gunicorn, serving the built policy site on the same origin. Without
# Stripe or crypto keys it runs the demo processor and seeds demo users (logins printed).
WORKERS ?= 2
run: setup
	$(PY) build.py --out build/site
	PUBLIC_URL=http://$(HOST):$(PORT) $(PY) -m flask --app portal seed-demo
	PUBLIC_URL=http://$(HOST):$(PORT) $(PY) -m gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) \
		--preload --access-logfile - "portal:create_app()"

test: setup system
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@scripts/ensure-apt wrk
	$(PY) bench/run.py

i18n: setup
	$(PY) -m translations.catalog extract

clean:
	rm -rf build .cache .venv .venv-bench
