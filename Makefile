# Two commands on a fresh machine (Python 3.11+): `make dev` runs DarkHorses, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: dev test install lint bench clean-state

dev: install
	$(BIN)/darkhorses dev

test: install
	$(BIN)/pytest -n 2 --dist loadgroup

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	$(BIN)/python -m compileall -q -j0 $(VENV)/lib >/dev/null
	touch $@

lint: install
	$(BIN)/ruff check darkhorses_assets darkhorses_assets_tests bench

clean-state:
	rm -rf .darkhorses
