# Customer Manager — one command to run, one to test. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
SERVICES = eval "$$(scripts/services.sh)"
# The most the web app's first screen may weigh, wasm + js after gzip -9, in KB (the lazily loaded
# pages come later, in chunks of their own): scripts/frontend.sh prints the
# size and fails above it (docs/PERFORMANCE.md, "Web app size").
WEB_APP_BUDGET_KB ?= 250
export WEB_APP_BUDGET_KB

.PHONY: help run test test-browser schemathesis fault-test fault-api frontend bench lint fmt openapi migrate schema clean-test-dbs

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

run: ## Build the API, worker and web app, make sure PostgreSQL and Redis are up, migrate, serve on 127.0.0.1:8080 and send due messages (Ctrl-C stops both)
	@$(SERVICES) && \
	scripts/frontend.sh && \
	$(CARGO) build --release -p crm-api -p crm-worker && \
	$(CARGO) run -q --release -p crm-api -- migrate && \
	echo && echo "Customer Manager: http://$${BIND_ADDR:-127.0.0.1:8080}  (API docs: /api/docs)" && \
	echo "First run? Create the admin in the web app, with POST /api/v1/setup, or with:" && \
	echo "  cargo run --release -p crm-api -- create-user --email you@example.com --name 'Your Name'" && echo && \
	exec scripts/run.sh

test: ## Run every test: the OpenAPI document through real tools, Rust tests, schemathesis, then the web app in headless Chromium (real PostgreSQL and Redis)
	@$(SERVICES) && \
	scripts/moto.sh >/dev/null && \
	$(CARGO) check -p crm-domain --no-default-features --target wasm32-unknown-unknown && \
	$(CARGO) check -p crm-contract --target wasm32-unknown-unknown && \
	scripts/openapi-check.sh && \
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run --workspace --no-fail-fast; \
	else \
	  $(CARGO) test --workspace --no-fail-fast; \
	fi
	@$(MAKE) --no-print-directory schemathesis
	@$(MAKE) --no-print-directory test-browser

schemathesis: ## Property-based tests of every operation against openapi/openapi.json: 0 server errors, 0 schema violations (LONG=1: 500 examples each)
	@$(SERVICES) && scripts/schemathesis.sh

test-browser: ## Build the web app and run the browser tests (screenshots in test-artifacts/browser)
	@$(SERVICES) && \
	scripts/frontend.sh && \
	$(CARGO) build --workspace --bins --tests && \
	cd frontend && CRM_API_BIN="$${CARGO_TARGET_DIR:-$(CURDIR)/target}/debug/crm-api" \
	  CRM_WORKER_BIN="$${CARGO_TARGET_DIR:-$(CURDIR)/target}/debug/crm-worker" \
	  node --test --test-concurrency=1 tests/

fault-test: ## Scheduled messages under faults: 1,000 messages while workers are killed, the queue is wiped and PostgreSQL restarts (PROFILE=release for release builds)
	@$(SERVICES) && scripts/fault-messages.sh

fault-api: ## The API under faults: steady load while PostgreSQL, then Redis, are down 10 s each (stops the shared servers; PRIVATE=1 uses its own; PROFILE=release)
	@$(SERVICES) && scripts/fault-api.sh $(if $(PRIVATE),--private)

frontend: ## Build the web app into frontend/dist (wasm-bindgen, wasm-opt, Bootstrap from npm)
	scripts/frontend.sh

bench: ## Benchmarks: receipt conversion vs a plain copy and vs Pillow, 10,000 messages due in one minute, 1,000 live-event streams, the HTTP API under load with 100,000 customers (figures in README and docs/PERFORMANCE.md)
	scripts/bench.sh
	@$(SERVICES) && scripts/bench-messages.sh
	@$(SERVICES) && scripts/bench-events.sh
	@$(SERVICES) && scripts/bench-http.sh

lint: ## cargo fmt --check, clippy (native and wasm) with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p crm-domain --no-default-features --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) clippy -p crm-contract --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) clippy -p crm-frontend --target wasm32-unknown-unknown -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

openapi: ## Regenerate openapi/openapi.json from the code
	$(CARGO) run -q -p crm-api -- openapi --output openapi/openapi.json

migrate: ## Create the database if needed and apply migrations
	@$(SERVICES) && $(CARGO) run -q -p crm-api -- migrate

schema: ## Regenerate crates/db/src/schema.rs with diesel print-schema (needs diesel_cli)
	@$(SERVICES) && scripts/schema.sh write

clean-test-dbs: ## Drop databases left behind by interrupted test runs
	@$(SERVICES) && psql "$$TEST_DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'crm\_test\_%'" \
	  | while read -r db; do psql "$$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$$db\" WITH (FORCE)"; done
