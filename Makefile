# The course's commands. `make lab` and `make test` are the two a newcomer needs.
# the first of python3.11, python3.12, python3.13 on the PATH, else python3 (checked below: 3.11 to 3.13)
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# the test suite never downloads anything; passive OpenMP threads stay fast when two test workers share the cores
TEST_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 MPLBACKEND=Agg OMP_WAIT_POLICY=PASSIVE

.PHONY: install install-dev lab test test-real-shaped test-fast lint gpu-check site classroom bench bench-compile train-model eval-model samples clean

$(STAMP): requirements.txt pyproject.toml
	@[ -n "$(PYTHON)" ] && command -v $(PYTHON) >/dev/null || { echo "No Python found: install Python 3.11, 3.12 or 3.13 (python.org, your package manager, pyenv or conda), then run make again."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else "The course needs Python 3.11, 3.12 or 3.13; $(PYTHON) is " + sys.version.split()[0] + ". Install one of those and run make again (or make PYTHON=python3.12 ...).")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) course_utils/install_torch.py
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the pinned requirements and course_utils

# the tests, lint and the browser test need more than a learner does (requirements-dev.txt)
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

install-dev: $(DEV_STAMP)

# LAB_ARGS passes options to JupyterLab, e.g. make lab LAB_ARGS="--no-browser --ip=0.0.0.0 --port=8890".
# As root (containers, many JupyterHub images) --allow-root is added; the news popup and update check are off.
LAB_ARGS ?=
lab: install  ## open JupyterLab on the welcome notebook
	OMP_WAIT_POLICY=PASSIVE $(VENV)/bin/jupyter lab notebooks/00_welcome.ipynb \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root) --LabApp.news_url=None \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate $(LAB_ARGS)

# the tests write what the notebooks save into a fresh temporary folder (removed afterwards), never into outputs/.
# Every notebook runs twice: with the embedded model, then with a model shaped like Stable Diffusion 1.5 (PNDM,
# 77 tokens, 768-wide text, VAE factor 8; random weights, built in seconds), so that nothing fits one model only.
NBVAL := -n 2 --dist loadscope --nbval-lax --nbval-current-env
test: install-dev  ## unit tests and every notebook, top to bottom (nbval), with both models
	out=$$(mktemp -d); $(TEST_ENV) COURSE_OUTPUT_DIR=$$out COURSE_STRICT_CHECKS=1 $(PY) -m pytest $(NBVAL) --durations=15 \
		tests notebooks \
		&& $(TEST_ENV) $(PY) -m course_utils.minisd.real_shaped $$out/real-shaped \
		&& $(TEST_ENV) COURSE_OUTPUT_DIR=$$out COURSE_MODEL=$$out/real-shaped $(PY) -m pytest $(NBVAL) -p no:cacheprovider \
		notebooks; rc=$$?; rm -rf "$$out"; exit $$rc

test-real-shaped: install-dev  ## every notebook with the Stable-Diffusion-1.5-shaped test model only
	out=$$(mktemp -d); $(TEST_ENV) $(PY) -m course_utils.minisd.real_shaped $$out/real-shaped \
		&& $(TEST_ENV) COURSE_OUTPUT_DIR=$$out COURSE_MODEL=$$out/real-shaped $(PY) -m pytest $(NBVAL) notebooks; \
		rc=$$?; rm -rf "$$out"; exit $$rc

test-fast: install-dev  ## unit tests only
	out=$$(mktemp -d); $(TEST_ENV) COURSE_OUTPUT_DIR=$$out $(PY) -m pytest -n 2 tests; rc=$$?; rm -rf "$$out"; exit $$rc

lint: install-dev
	$(VENV)/bin/ruff check course_utils tests assets notebooks

gpu-check: install-dev  ## on a CUDA GPU: SD 1.5 and SDXL U-Net speed and memory, then the real-model notebook cells
	HF_HUB_DISABLE_TELEMETRY=1 $(PY) -m course_utils.gpu_check $(GPU_CHECK_ARGS)

site: install  ## the course as static web pages with every picture, in build/site (open build/site/index.html)
	OMP_WAIT_POLICY=PASSIVE $(PY) -m course_utils.site

classroom: install  ## peak memory and CPU time of one learner's kernel, notebook by notebook (for a JupyterHub)
	OMP_WAIT_POLICY=PASSIVE $(PY) -m course_utils.classroom

bench: install  ## speed and memory of the embedded model (medians, this machine)
	$(TEST_ENV) $(PY) -m course_utils.minisd.bench $(BENCH_ARGS)

bench-compile: install  ## torch.compile on both embedded models: first picture (empty, filled cache), then steady
	$(TEST_ENV) $(PY) -m course_utils.minisd.bench --compile $(BENCH_ARGS)

# training runs alone and keeps its OpenMP threads spinning: with passive ones the VAE trained at 1.40 steps/s instead of 1.87
train-model: install  ## train the embedded model from scratch (under 2 h on 2 CPU cores; resumes)
	$(PY) -m course_utils.minisd.train

eval-model: install  ## prompt adherence, guidance, image-to-image and reproducibility figures
	$(TEST_ENV) $(PY) -m course_utils.minisd.evaluate

clean:
	rm -rf build outputs test-artifacts .pytest_cache
