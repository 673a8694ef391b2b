# Fresh machine: `make demo` (set up + the main job) or `make test` (set up + tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: setup test demo quickstart clean

setup: $(VENV)/.installed

# torch first: its CPU wheel is local; anything asking for torch later then pulls no CUDA build
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[all,test]'
	touch $@

test: setup
	$(PY) -m pytest -q --durations=15

demo: setup
	$(VENV)/bin/milco-pt demo --out runs/demo

quickstart: setup
	$(PY) experiments/quickstart.py

clean:
	rm -rf $(VENV) runs .pytest_cache
