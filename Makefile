# One-command setup and checks. Every target creates .venv and installs the pinned
# requirements first when they changed, so each works on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Keep DDS on this machine (shared memory only, localhost discovery), in a domain of this
# run's own.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export FASTDDS_DEFAULT_PROFILES_FILE := $(CURDIR)/config/fastdds_shm.xml
export ROS_DOMAIN_ID ?= $(shell $(PYTHON) -c 'import random; print(random.randint(1, 200))')

.PHONY: setup test test-all bench demo experiment experiment-families optimize-bundled clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt $(wildcard requirements/*.txt) setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# The suite CI runs (tests marked slow are excluded; `make test-all` runs them too).
test: $(STAMP)
	$(BIN)/python -m pytest -m 'not slow'

test-all: $(STAMP)
	$(BIN)/python -m pytest

# Network cost and every CPU inference path, the node's overhead, the speed tiers (and their
# accuracy-latency table and picture, build/tradeoff.png) and the node's memory after huge
# frames; each merges its figures into build/bench.json.
bench: $(STAMP)
	mkdir -p build
	$(BIN)/python -m multitask_seg.bench --out build/bench.json
	$(BIN)/python -m multitask_seg.bench.agreement --out build/bench.json \
		--checkpoint multitask_seg/bundled/default.pt --input-size 480x640
	$(BIN)/python -m multitask_seg.ros.bench_node --out build/bench.json \
		--checkpoint multitask_seg/bundled/default.pt --input-size 480x640
	$(BIN)/python -m multitask_seg.ros.bench_node --out build/bench.json \
		--checkpoint multitask_seg/bundled/default.pt --input-size checkpoint \
		--key-prefix bundled_
	$(BIN)/python -m multitask_seg.bench.tiers --out build/bench.json
	$(BIN)/python -m multitask_seg.bench.tradeoff --bench build/bench.json \
		--results doc/experiment_results.json --out build/tradeoff.png
	$(BIN)/python -m multitask_seg.ros.bench_memory --out build/bench.json

# The README's main command: a held-out synthetic bag replayed live through the node with
# the bundled model; report in demo_output/.
demo: $(STAMP)
	$(BIN)/python -m multitask_seg.demo

# The distillation experiment in miniature (about 90 minutes on 2 CPU cores); resumable.
experiment: $(STAMP)
	$(BIN)/python -m distill.experiment --config distill/configs/miniature.yaml \
		--publish doc/experiment_results.json

# Every speed tier as a distilled student, 3 seeds outdoor (about 1 hour on 2 CPU
# cores; shares the data and teachers above); resumable.
experiment-families: $(STAMP)
	$(BIN)/python -m distill.experiment --config distill/configs/families.yaml \
		--publish doc/experiment_results.json

# The bundled model's OpenVINO fp32/bf16/int8 variants and their measured accuracy against
# fp32 (plain int8 calibrated on 50 synthetic indoor frames, measured on 20 others, each at
# the network's 160x120 and at 640x480); precision 'auto' reads the figures. Needs NNCF
# (requirements/export.txt).
optimize-bundled: $(STAMP)
	$(BIN)/python -m multitask_seg.optimize --checkpoint multitask_seg/bundled/default.pt \
		--calibration synthetic:indoor --frames 50 --held-out 20 --threads 2 \
		--output multitask_seg/bundled/default.openvino

clean:
	rm -rf build install log demo_output eval_output .pytest_cache
