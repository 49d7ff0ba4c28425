# FakeWatch: `make run` runs the service locally, `make test` runs the tests.
# Both set themselves up on a fresh machine (a .venv in this folder).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# torch first, pinned: a looser request on a machine without torch pulls a CUDA build.
TORCH  := torch==2.13.0 torchvision==0.28.0
EXTRAS := inference,service,dev,train,discord,telegram,metrics,dashboard,webtest

.PHONY: setup run test test-all lint format clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(TORCH)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/fakewatch run

# The default suite: everything but the `slow` marker (CI also runs those, see .ci/run).
test: setup
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: setup
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
