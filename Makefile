# `make run` and `make test` create .venv on first use and install the project into it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run serve-class test test-fast bench pretrained clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/streamlit run streamlit_app.py --server.port 8501

serve-class: $(STAMP)   # a class on this machine: 2 app processes behind nginx (see README, "Serving a class")
	$(VENV)/bin/gan-core serve --replicas 2 --port 8501

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)   # a few minutes: no Chromium, nginx, PostgreSQL or shipped-model evaluation
	@echo "test-fast: everything but the browser, deployment and shipped-model evaluation tests (make test runs all)"
	$(PY) -m pytest -q -m "not browser and not evaluation" --ignore=tests/deploy

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

pretrained: $(STAMP)
	$(PY) -m gan_core.cli pretrained --all

clean:
	rm -rf $(VENV) .pytest_cache
