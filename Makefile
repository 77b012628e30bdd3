# Every target does its own set-up: the virtualenv is created and the pinned requirements are
# installed on first use (and again whenever requirements.txt changes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: venv plan test benchmark clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

plan: venv  ## offline preview of one stack: make plan STACK=prod
	$(PY) -m offline.preview $(STACK)

test: venv  ## the whole suite, every stack file included
	$(PY) -m pytest

benchmark: venv  ## warm wall time of `make plan` against importing the SDK modules it uses
	$(PY) scripts/benchmark.py

clean:
	rm -rf build .pytest_cache
