# `make run`: the platform with demo data on http://127.0.0.1:8000 (SQLite, in-memory layer).
# `make test`: lint, an audit of the pinned packages for known vulnerabilities, the whole suite
# on SQLite (browser tests in Chromium and the README's Node program included), the transport
# SDK's own tests in Node, then the integration tests again on PostgreSQL + Redis.

SHELL := bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The run command serves plain http, and reaches the sample portal's key URL on this machine.
# Apple Messages for Business goes to the sample portal's stand-in for Apple's gateway, with an
# MSP secret generated once into var/.
APPLE_SECRET := var/apple_msp_secret
RUN_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-true} CC_SECURE_TRANSPORT=$${CC_SECURE_TRANSPORT:-false} \
	CC_OUTBOUND_ALLOWED_HOSTS=$${CC_OUTBOUND_ALLOWED_HOSTS:-localhost,127.0.0.1} \
	CC_APPLE_MSP_ID=$${CC_APPLE_MSP_ID:-demo-msp} \
	CC_APPLE_MSP_SECRET=$${CC_APPLE_MSP_SECRET:-$$(cat $(APPLE_SECRET))} \
	CC_APPLE_GATEWAY_URL=$${CC_APPLE_GATEWAY_URL:-http://127.0.0.1:8000/portal/apple/gateway}

.PHONY: run test lint audit unit sdk integration venv clean

run: $(INSTALLED) $(APPLE_SECRET)
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(RUN_ENV) $(BIN)/python manage.py demo
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: lint audit unit sdk integration

$(APPLE_SECRET):
	mkdir -p -m 0700 var
	(umask 077 && $(PYTHON) -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())' > $@)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Known vulnerabilities of the pinned packages (and what they pull in), from PyPI's feed.
audit: $(INSTALLED)
	$(BIN)/pip-audit --requirement requirements.txt --progress-spinner off

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
unit: $(INSTALLED)
	.ci/chromium >/dev/null
	.ci/node >/dev/null
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest

# The transport SDK in Node, with the WebSocket class .ci/node finds or installs.
sdk:
	$$(.ci/node) --test tests/sdk/

# Starts throwaway PostgreSQL and Redis servers (unless DATABASE_URL / REDIS_URL point at
# some already) and stops them again, whatever the tests did.
integration: $(INSTALLED)
	services=$$(.ci/services start) && eval "$$services" && \
	trap '.ci/services stop' EXIT && \
	$(BIN)/pytest -m integration

venv: $(INSTALLED)

$(INSTALLED): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

clean:
	rm -rf $(VENV) var/
