# Skillpath: `make run` starts the demo, `make test` runs the whole suite.
# Both create .venv when it is missing and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes (pytest-xdist): 0 runs the suite in this process. TEST_WORKERS=2 takes about
# two thirds of the time on 2 cores, but a browser test has failed once that way (README).
TEST_WORKERS ?= 0
PEERS := .peers

.PHONY: run test lint typecheck clean peers bench-launch

run: $(STAMP)
	$(BIN)/skillpath demo

test: $(STAMP) peers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Real peers the tests start: each lives in a folder this Makefile owns.
peers: $(STAMP) $(PEERS)/ll/.installed $(PEERS)/ralph-venv/.installed $(PEERS)/axe/.installed browser

clean:
	rm -rf $(VENV) $(PEERS) instance

# Benchmarks: one command each; figures go to BENCHMARKS.md.
bench-launch: $(STAMP)
	$(BIN)/python -m benchmarks.launch

# Learning Locker's statement service (npm xapi-statements 5.0.1), run by peers/lrs.py.
$(PEERS)/ll/.installed:
	mkdir -p $(PEERS)/ll
	test -f $(PEERS)/ll/package.json || echo '{"name": "skillpath-ll-peer", "private": true}' > $(PEERS)/ll/package.json
	cd $(PEERS)/ll && npm install --ignore-scripts --no-audit --no-fund xapi-statements@5.0.1
	touch $@

# axe-core (npm) for the accessibility checks of the page tests, run by peers/chromium.py.
$(PEERS)/axe/.installed:
	mkdir -p $(PEERS)/axe
	test -f $(PEERS)/axe/package.json || echo '{"name": "skillpath-axe", "private": true}' > $(PEERS)/axe/package.json
	cd $(PEERS)/axe && npm install --ignore-scripts --no-audit --no-fund axe-core@4.10.3
	touch $@

# The page tests drive Debian's Chromium (never a browser download); installed when missing.
.PHONY: browser
browser:
	@command -v chromium >/dev/null || (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium))

# Ralph (ralph-malph 5.1.0) in its own venv so its pins never meet ours; its extra forgets requests.
$(PEERS)/ralph-venv/.installed:
	$(PYTHON) -m venv $(PEERS)/ralph-venv
	$(PEERS)/ralph-venv/bin/pip install -q 'ralph-malph[lrs,cli]==5.1.0' requests
	touch $@

# Adaptive-engine benchmark against pyBKT (C++ build; benchmark-only dependency).
.PHONY: bench-recommender
bench-recommender: $(STAMP)
	$(BIN)/pip install -q numpy setuptools wheel 'scikit-learn<1.6' pandas
	$(BIN)/pip install -q --no-build-isolation --no-binary pyBKT pyBKT==1.4.3
	$(BIN)/python -m benchmarks.recommender

# LRS sync benchmark: our client beside tincan's RemoteLRS against Learning Locker.
.PHONY: bench-xapi
bench-xapi: $(STAMP) peers
	$(BIN)/python -m benchmarks.xapi_sync

# Grade delivery benchmark: the outbox against the platform peer, with and without outages.
.PHONY: bench-grades
bench-grades: $(STAMP)
	$(BIN)/python -m benchmarks.grades

# The pages' JavaScript from npm, vendored into static/vendor/ (committed; no CDN at run time).
# Reproducible: exact versions, and the files must match static/vendor/SHA256SUMS.
HTMX_VERSION := 2.0.11
CHARTJS_VERSION := 4.5.1
.PHONY: vendor
vendor:
	rm -rf $(PEERS)/vendor && mkdir -p $(PEERS)/vendor static/vendor
	cd $(PEERS)/vendor && npm pack --silent htmx.org@$(HTMX_VERSION) chart.js@$(CHARTJS_VERSION) >/dev/null
	tar -xzf $(PEERS)/vendor/htmx.org-$(HTMX_VERSION).tgz -C $(PEERS)/vendor package/dist/htmx.min.js && mv $(PEERS)/vendor/package/dist/htmx.min.js static/vendor/htmx.min.js
	tar -xzf $(PEERS)/vendor/chart.js-$(CHARTJS_VERSION).tgz -C $(PEERS)/vendor package/dist/chart.umd.min.js && mv $(PEERS)/vendor/package/dist/chart.umd.min.js static/vendor/chart.umd.min.js
	cd static/vendor && sha256sum -c SHA256SUMS

# The pages' translations: extract the messages, update the catalogs, compile them.
.PHONY: translations
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k ngettext:1,2 -o lti_tool/web/translations/messages.pot lti_tool/web
	$(BIN)/pybabel update -i lti_tool/web/translations/messages.pot -d lti_tool/web/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d lti_tool/web/translations

# Page and API server time with 1,000 learners and a 1,000-lesson catalog (BENCHMARKS.md).
.PHONY: bench-pages
bench-pages: $(STAMP)
	$(BIN)/python -m benchmarks.pages

# Load benchmark: launches and /api/v1/me/path at rising concurrency against gunicorn on the
# machine's PostgreSQL and Redis, beside the pylti1p3 reference tool (127.0.0.1 only, bounded).
.PHONY: bench-load
bench-load: $(STAMP)
	$(BIN)/python -m benchmarks.load
