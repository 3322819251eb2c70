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

# make test needs configurable-http-proxy for tests/test_hub.py
.PHONY: hub hub-remove lab test lint release slides slides-offline bench clean check-bwrap
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
	$(PIP) install --quiet -e '.[test,bench,torch,hub]'
	touch $@

# configurable-http-proxy for JupyterHub, from npm into a project-local prefix (never global)
HUB_PROXY := build/hub/node_modules/.bin/configurable-http-proxy
$(HUB_PROXY):
	npm install --no-audit --no-fund --no-save --prefix build/hub configurable-http-proxy@5.3.0

## make hub: the course on a local JupyterHub at http://127.0.0.1:8000 (as root: creates the
## accounts instructor, student1, student2 with password autodiff; Ctrl-C stops it)
HUB_SITE ?= build/hub/site
hub: $(VENV)/.test $(HUB_PROXY)
	test -f $(HUB_SITE)/site.json || $(PY) -m hub.site $(HUB_SITE)
	AUTODIFF_HUB_SITE=$(HUB_SITE) $(VENV)/bin/jupyterhub -f hub/jupyterhub_config.py

## make hub-remove: delete the hub's accounts and its site folder
hub-remove:
	$(PY) -m hub.site $(HUB_SITE) --remove

## make lab: start JupyterLab on your own copy of the course (workspace/, never overwritten)
lab: $(VENV)/.runtime
	@command -v bwrap >/dev/null 2>&1 || echo "note: $(BWRAP_HINT) (only instructors grading need it)"
	$(PY) -m grader workspace --dest $(WORKSPACE)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(WORKSPACE) $(AS_ROOT) $(LAB_ARGS)

## make test: lint, then the whole test suite
test: check-bwrap $(VENV)/.test $(HUB_PROXY)
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
