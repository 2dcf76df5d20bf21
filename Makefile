# User2Smart: `make demo` brings the service up, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-import test lint format install clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "User2Smart needs Python 3.11 or newer.")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "Cannot create a virtual environment: install it with 'sudo apt-get install python3-venv'."; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m user2smart.demo

# Import the demo's sample file into the emulated SmartRecruiters (with `make demo` running).
demo-import: $(STAMP)
	DJANGO_DEBUG=true REDIS_URL=$$(cat demo-data/redis-url 2>/dev/null || echo redis://127.0.0.1:6379/0) \
		$(BIN)/python manage.py import_users demo-data/sample-users.csv --company demo \
		|| test $$? -eq 1  # 1: some rows have errors (the sample keeps one on purpose)

# mypy's Django plugin imports the settings: in debug they need no secret key.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=true $(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)
	@# The row service's hand-written SQL once more on SQLite (the demo's database).
	DATABASE_URL= $(BIN)/pytest -q tests/imports/runs/test_row_service.py

clean:
	rm -rf $(VENV) db.sqlite3 test-db.sqlite3 .pytest_cache .ruff_cache .mypy_cache
