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

run: setup
	$(PY) build.py serve --out build/site --host $(HOST) --port $(PORT)

test: setup system
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run.py

i18n: setup
	$(PY) -m sitegen.i18n extract

clean:
	rm -rf build .cache .venv .venv-bench
