# Two entry points, each complete on a fresh Linux machine with Python 3.11:
#   make demo   – install what is missing, then train + evaluate MaskFreeVIS on generated data
#   make test   – install what is missing, then run the whole test suite
# Both reuse .venv/ and are idempotent.

PYTHON ?= python3.11
VENV := .venv
VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip
# A prebuilt mmcv 2.1.0 wheel (CPU ops) may sit in ../shared/wheels; use it as a cache when present.
WHEELS_DIR := ../shared/wheels
FIND_LINKS := $(if $(wildcard $(WHEELS_DIR)/*.whl),--find-links $(WHEELS_DIR),)
STAMP := $(VENV)/.installed
# the demo and the analyses: a distribution of their own beside the library (maskfreevis-demo)
DEMO_PROJECT := projects/maskfreevis_demo
BROWSER_STAMP := $(VENV)/.browser
# root here and in CI; sudo elsewhere
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
REQUIREMENT_FILES := requirements.txt $(wildcard requirements/*.txt) setup.py $(DEMO_PROJECT)/setup.py

.PHONY: demo test test-fast lint format install clean

# OpenMP threads that wait by spinning keep their core: beside another busy process every
# parallel op of a CPU training step then waits out a scheduler slice (the demo model's 2-thread
# step beside `yes`: 18-21 s spinning, 3.8-4.1 s sleeping; benchmark_losses.py
# --contention-only). The demo's threads sleep while they wait; set OMP_WAIT_POLICY to override.
OMP_WAIT_POLICY ?= PASSIVE

demo: $(STAMP)
	OMP_WAIT_POLICY=$(OMP_WAIT_POLICY) $(VPY) tools/run_demo.py

test: lint $(BROWSER_STAMP)
	$(VPY) -m pytest tests

test-fast: lint
	$(VPY) -m pytest tests -m "not slow"

# ruff.toml configures both; `make format` rewrites the tree, `make lint` only checks it.
lint: $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

format: $(STAMP)
	$(VPY) -m ruff check --fix .
	$(VPY) -m ruff format .

install: $(STAMP)

$(VPY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# torch is pinned to the CPU build on disk first, so nothing later can pull a CUDA build.
# mmcv 2.1.0 is an sdist only: it needs torch + setuptools<82 present and no build isolation
# (~14 min to compile its ops on 2 cores unless the wheel cache has it).
$(STAMP): $(VPY) $(REQUIREMENT_FILES)
	$(PIP) install -r requirements/build.txt
	MMCV_WITH_OPS=1 $(PIP) install --no-build-isolation $(FIND_LINKS) mmcv==2.1.0
	$(PIP) install $(FIND_LINKS) -r requirements.txt -r requirements/optional.txt -r requirements/mim.txt "torch==2.13.0"
	$(PIP) install --no-deps openmim==0.3.9
	$(PIP) install --no-deps --no-build-isolation -e .
	$(PIP) install --no-deps --no-build-isolation -e $(DEMO_PROJECT)
	$(VPY) -c "import mmcv.ops, mmdet.models, maskfreevis, maskfreevis_demo.runner; print('maskfreevis stack OK')"
	touch $(STAMP)

# Debian's headless browser for the web demo's end-to-end test (tests/projects/gradio_demo).
# Without apt-get the test is skipped, saying why.
$(BROWSER_STAMP): $(STAMP)
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		echo "chromium and chromedriver found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "no apt-get: install chromium and chromedriver, or the browser test is skipped"; \
	fi
	touch $(BROWSER_STAMP)

clean:
	rm -rf $(VENV) maskfreevis/.mim build *.egg-info $(DEMO_PROJECT)/*.egg-info

# The GPU check's wheels (tools/analysis_tools/gpu_check.sh): what the bare GPU machine lacks,
# for CPython 3.12 on x86-64 Linux, and mmcv's source release to build there, downloaded into
# the git-ignored gpu_wheels/ that the device call carries (docs/en/notes/gpu_check.md).
.PHONY: gpu-wheels
gpu-wheels: $(STAMP)
	$(VPY) -m maskfreevis_demo.analysis.gpu_check --fetch-wheels gpu_wheels
