# Two commands do everything: `make lab` (learn) and `make test` (check).
# Both create the local environment in .venv on first use; only Python 3.11+ and make are needed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
WORKSPACE ?= workspace
LAB_ARGS  ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
AS_ROOT   := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test lint release slides slides-offline bench clean check-bwrap
BWRAP_HINT := bubblewrap (bwrap) is missing: install it with: sudo apt-get install bubblewrap

# Grading needs bubblewrap (the grader refuses untrusted notebooks without it); learners do not.
check-bwrap:
	@command -v bwrap >/dev/null 2>&1 || { echo "error: $(BWRAP_HINT) (grading and the tests need it)" >&2; exit 1; }

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(PIP) install --quiet -e '.[test,bench,torch]'
	touch $@

## make lab: start JupyterLab on your own copy of the course (workspace/, never overwritten)
lab: $(VENV)/.runtime
	@command -v bwrap >/dev/null 2>&1 || echo "note: $(BWRAP_HINT) (only instructors grading need it)"
	$(PY) -m grader workspace --dest $(WORKSPACE)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(WORKSPACE) $(AS_ROOT) $(LAB_ARGS)

## make test: lint, then the whole test suite
test: check-bwrap $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n 2 --dist loadgroup

lint: $(VENV)/.test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## make release: regenerate course/ (student versions) and build/solutions/ (executed masters)
release: $(VENV)/.runtime
	$(PY) -m grader release

## make slides: reveal.js lecture slides per lesson in build/slides/ (runs stale masters first)
slides: $(VENV)/.runtime
	$(PY) -m grader slides --execute --out build/slides

## make slides-offline: the same, with reveal.js, require.js, jQuery and MathJax beside them (npm)
SLIDE_ASSETS := build/slide-assets
slides-offline: $(VENV)/.runtime
	npm install --no-audit --no-fund --no-save --prefix $(SLIDE_ASSETS) \
		reveal.js@4.0.2 requirejs@2.3.6 jquery@3.7.1 mathjax@2.7.9
	$(PY) -m grader slides --execute --out build/slides --assets $(SLIDE_ASSETS)/node_modules

bench: $(VENV)/.test
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis
