# Persephone: make targets. `make help` lists them.
SHELL := /bin/bash
SWIFT ?= swift
DEB_PACKAGES := libpng-dev libzstd-dev zstd zlib1g-dev libopenblas-dev pkg-config dataset-fashion-mnist gnuplot-nox
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/release/persephone

.PHONY: help deps build release test bench reproduce import-fashion-mnist clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

deps: ## install the Debian packages a fresh machine lacks (idempotent, quiet when all present)
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: ## debug build
	$(SWIFT) build

release: ## optimised build, used for anything timed
	$(SWIFT) build -c release

test: ## run the whole test suite, then the smoke scale end to end against the committed tables (smoke-check)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@$(MAKE) --no-print-directory smoke-check

.PHONY: smoke-check
smoke-check: release ## the five experiments at SCALE=smoke, tables compared byte for byte with results/*-smoke (installs nothing)
	@[ -f datasets/fashion-mnist/dataset.json ] || $(BIN) datasets import fashion-mnist
	$(BIN) reproduce --scale smoke --check

bench: release ## engine benchmark (prints figures; see docs/benchmarks.md)
	$(BIN) bench

import-fashion-mnist: release ## import the Debian package's Fashion-MNIST into datasets/fashion-mnist
	$(BIN) datasets import fashion-mnist

reproduce: release ## every claim decided: the five experiments at SCALE (paper, the default), compared with the committed tables, then the report
	@case "$(SCALE)" in smoke|paper|full) ;; *) echo "make reproduce: SCALE must be smoke, paper or full, not '$(SCALE)'" >&2; exit 2;; esac
	@[ -f datasets/fashion-mnist/dataset.json ] || $(BIN) datasets import fashion-mnist
	$(BIN) reproduce --scale $(SCALE) $(REPRODUCE_ARGS)

clean:
	rm -rf .build

# Experiment scales (docs/experiments.md, "Scales"): SCALE=paper (the default) runs the spec
# files as written into results/<experiment>/; SCALE=smoke and SCALE=full lay
# experiments/scales/<scale>.yaml over them, into results/<experiment>-<scale>/.
SCALE ?= paper
SCALE_CHECK = case "$(SCALE)" in smoke|paper|full) ;; *) echo "make $@: SCALE must be smoke, paper or full, not '$(SCALE)'" >&2; exit 2;; esac

# Pretraining and offline exits for ResNet-20 on Fashion-MNIST (docs/training.md); not on
# the path of any experiment, which read the committed checkpoints.
# PRETRAIN=full (default): the accuracy run (20 + 10 epochs, about 1.5 h on 2 cores), written as resnet20*;
# PRETRAIN=smoke: 1 + 1 epochs, a few minutes, written as resnet20-smoke*.
PRETRAIN ?= full
PRETRAIN_NAME_smoke := resnet20-smoke
PRETRAIN_NAME_full := resnet20
PRETRAIN_FLAGS_smoke := --epochs 1
PRETRAIN_FLAGS_full := --epochs 20
EXITS_FLAGS_smoke := --epochs 1
EXITS_FLAGS_full := --epochs 10
PRETRAIN_CKPT = checkpoints/fashion-mnist/$(PRETRAIN_NAME_$(PRETRAIN))

.PHONY: pretrain
pretrain: release ## ResNet-20 on Fashion-MNIST, then one exit per stage (PRETRAIN=full|smoke) -> checkpoints/fashion-mnist/
	@case "$(PRETRAIN)" in smoke|full) ;; *) echo "make pretrain: PRETRAIN must be smoke or full, not '$(PRETRAIN)'" >&2; exit 2;; esac
	@[ -f datasets/fashion-mnist/dataset.json ] || $(BIN) datasets import fashion-mnist
	@mkdir -p checkpoints/fashion-mnist
	@if [ -f $(PRETRAIN_CKPT)-backbone.safetensors ]; then \
	    echo "make pretrain: $(PRETRAIN_CKPT)-backbone.safetensors exists; delete it to pretrain again"; \
	else \
	    $(BIN) pretrain --dataset datasets/fashion-mnist --arch resnet20 $(PRETRAIN_FLAGS_$(PRETRAIN)) \
	        --out $(PRETRAIN_CKPT)-backbone.safetensors; \
	fi
	$(BIN) exits train --checkpoint $(PRETRAIN_CKPT)-backbone.safetensors --dataset datasets/fashion-mnist \
	    $(EXITS_FLAGS_$(PRETRAIN)) --out $(PRETRAIN_CKPT).safetensors
	$(BIN) evaluate --checkpoint $(PRETRAIN_CKPT).safetensors --dataset datasets/fashion-mnist

# MobileNetV2-small (width 0.5) on Fashion-MNIST: the second backbone's accuracy run
# (12 epochs, about 4 min per epoch on 2 cores; resumable: rerun after an interruption).
MNV2_CKPT := checkpoints/fashion-mnist/mobilenetv2-backbone.safetensors
# Exits: the middle block of each resolution (28, 14, 7, 4), 10 epochs (about 35 min).
MNV2_EXITS := checkpoints/fashion-mnist/mobilenetv2.safetensors
MNV2_POINTS := block2,block5,block10,block16
.PHONY: pretrain-mobilenetv2
pretrain-mobilenetv2: release ## MobileNetV2-small on Fashion-MNIST, 12 epochs, then its exits -> checkpoints/fashion-mnist/mobilenetv2{-backbone,}.safetensors
	@[ -f datasets/fashion-mnist/dataset.json ] || $(BIN) datasets import fashion-mnist
	@mkdir -p checkpoints/fashion-mnist
	@if [ -f $(MNV2_CKPT) ]; then echo "make pretrain-mobilenetv2: $(MNV2_CKPT) exists; delete it to pretrain again"; \
	else $(BIN) pretrain --dataset datasets/fashion-mnist --arch mobilenetv2 --epochs 12 --out $(MNV2_CKPT); fi
	@if [ -f $(MNV2_EXITS) ]; then echo "make pretrain-mobilenetv2: $(MNV2_EXITS) exists; delete it to train the exits again"; \
	else $(BIN) exits train --checkpoint $(MNV2_CKPT) --dataset datasets/fashion-mnist --points $(MNV2_POINTS) \
	    --epochs 10 --out $(MNV2_EXITS); fi
	$(BIN) evaluate --checkpoint $(MNV2_EXITS) --dataset datasets/fashion-mnist

# The paper's experiments (docs/experiments.md). `make <experiment>` runs one spec of
# experiments/ at SCALE into results/<experiment>/ (paper) or results/<experiment>-<scale>/.
# SLURM=N submits it to Slurm instead, as N array tasks plus the merge (`persephone submit`;
# SLURM_ARGS="--partition P --time T" passes more; EXISTING does not apply; docs/runner.md, "Slurm").
# RUN_ARGS passes more to `persephone run` (e.g. RUN_ARGS="data.users=2"). EXISTING says what
# happens to a folder that already holds results: --replace-changed (default) moves it aside
# (to <folder>.<hash>) when its spec, code or inputs changed and otherwise resumes it;
# EXISTING=--force-new always starts afresh; EXISTING= (empty) refuses a changed folder.
EXISTING := --replace-changed
EXPERIMENTS := global-vs-personal label-availability training-cost data-growth latency-accuracy
RUN_FLAGS_paper :=
RUN_FLAGS_smoke = --overlay experiments/scales/smoke.yaml --out results/$@-smoke
RUN_FLAGS_full = --overlay experiments/scales/full.yaml --out results/$@-full

.PHONY: $(EXPERIMENTS) experiments
$(EXPERIMENTS): release
	@$(SCALE_CHECK)
	$(if $(SLURM),$(BIN) submit experiments/$@.yaml $(RUN_FLAGS_$(SCALE)) $(RUN_ARGS) --tasks $(SLURM) $(SLURM_ARGS),$(BIN) run experiments/$@.yaml $(RUN_FLAGS_$(SCALE)) $(EXISTING) $(RUN_ARGS))

global-vs-personal: ## per-user accuracy: global model vs personalised exits and policy, per backbone and split type
label-availability: ## accuracy per exit by labelled fraction x loss mix
training-cost: ## FLOPs, wall time and accounted memory: exits vs whole-network fine-tuning, per backbone
data-growth: ## exits enabled, accuracy, FLOPs per round of arriving data
latency-accuracy: ## accuracy vs FLOPs and measured latency over thresholds, per backbone and labelled fraction
experiments: $(EXPERIMENTS) ## every experiment at SCALE (smoke|paper|full), resuming unfinished folders, no comparison or report

.PHONY: results
results: release ## rerun only the experiments whose spec, code or inputs changed (or that are unfinished), then the report
	@$(SCALE_CHECK)
	@[ -f datasets/fashion-mnist/dataset.json ] || $(BIN) datasets import fashion-mnist
	@set -e; for e in $(EXPERIMENTS); do \
	    echo "make results: $$e"; \
	    $(MAKE) --no-print-directory $$e SCALE=$(SCALE) EXISTING=--if-changed RUN_ARGS="$(RUN_ARGS)"; \
	done
	$(BIN) report $(REPORT_FLAGS_$(SCALE))

.PHONY: report figures
REPORT_FLAGS_paper := --other-scale full
REPORT_FLAGS_smoke := --scale smoke
REPORT_FLAGS_full := --scale full
report: release ## results/REPORT.md (REPORT-<scale>.md with SCALE=smoke|full) and results/figures/*.png from the tables
	@$(SCALE_CHECK)
	$(BIN) report $(REPORT_FLAGS_$(SCALE))

figures: report ## redraw results/figures/ (written together with REPORT.md)

# persephone submit against a real Slurm on this machine alone (docs/runner.md, "Slurm").
.PHONY: test-slurm
test-slurm: release ## install Slurm and MUNGE if missing, start a local single-node cluster (root), submit, cancel, resume, compare bytes
	bash experiments/slurm/test-slurm.sh

# Side by side with PyTorch (docs/benchmarks.md, "Side by side with PyTorch"): the five
# figures of `persephone bench` measured again in PyTorch on the CPU, alternated with ours
# back to back, medians and ratios. PyTorch is installed from PyPI into TORCH_VENV, outside
# the repository; it is never a dependency of the build, the tests or CI.
# REFERENCE_ARGS: e.g. "--rounds 5", "--cpu-time" (one thread each, thread CPU time),
# "--variants passive" (see the script's --help).
TORCH_VENV ?= $(abspath ..)/venv-torch
REFERENCE_ARGS ?=
.PHONY: bench-reference
bench-reference: release ## our bench figures beside PyTorch's (CPU, 2 threads) as ratios; installs torch into TORCH_VENV
	@[ -x $(TORCH_VENV)/bin/python ] || python3 -m venv $(TORCH_VENV)
	@$(TORCH_VENV)/bin/python -c 'import torch' 2>/dev/null || $(TORCH_VENV)/bin/pip install --quiet torch
	$(TORCH_VENV)/bin/python -W ignore Sources/Bench/Reference/bench_reference.py --persephone $(BIN) $(REFERENCE_ARGS)

# Fuzzing (docs/fuzzing.md). `make fuzz` builds the libFuzzer driver (debug, so every
# overflow and bounds check stays in, plus AddressSanitizer) into .build/fuzz and runs each
# target for FUZZ_SECONDS from its committed seed corpus, growing a working corpus in
# .build/fuzz/corpus/<target>; crashes and hangs land in .build/fuzz/artifacts/<target>/.
# `make fuzz-short` runs the seeded-mutation driver of the normal build (FUZZ_SHORT_SECONDS
# per target) and replays the committed regression inputs; .ci/run runs it.
FUZZ_TARGETS := png safetensors spec idx cifar csvzst
FUZZ_SECONDS ?= 600
FUZZ_SHORT_SECONDS ?= 12
FUZZ_BIN := .build/fuzz/debug/persephone-fuzz
FUZZ_FLAGS := -Xswiftc -sanitize=fuzzer,address -Xswiftc -DLIBFUZZER -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

.PHONY: fuzz fuzz-short
fuzz: ## libFuzzer over the PNG, safetensors, spec, IDX, CIFAR and .csv.zst readers, FUZZ_SECONDS (600) each
	$(SWIFT) build --build-path .build/fuzz --product persephone-fuzz $(FUZZ_FLAGS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p .build/fuzz/corpus/$$t .build/fuzz/artifacts/$$t; \
	    echo "make fuzz: $$t for $(FUZZ_SECONDS) s (log .build/fuzz/$$t.log)"; \
	    if PERSEPHONE_FUZZ_TARGET=$$t $(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -max_len=65536 -print_final_stats=1 -artifact_prefix=.build/fuzz/artifacts/$$t/ \
	        .build/fuzz/corpus/$$t Tests/fuzz/corpus/$$t > .build/fuzz/$$t.log 2>&1; then \
	        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' .build/fuzz/$$t.log | tr '\n' ' '; echo; \
	    else \
	        tail -30 .build/fuzz/$$t.log; echo "make fuzz: $$t FAILED; the input is in .build/fuzz/artifacts/$$t/" >&2; exit 1; \
	    fi; \
	done

fuzz-short: ## a short seeded-mutation run of every fuzz target (FUZZ_SHORT_SECONDS each) and the regression inputs
	$(SWIFT) build --product persephone-fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
	    .build/debug/persephone-fuzz $$t --corpus Tests/fuzz/corpus/$$t --seconds $(FUZZ_SHORT_SECONDS) --seed $$(date +%s); \
	    if [ -d Tests/fuzz/regressions/$$t ]; then .build/debug/persephone-fuzz $$t --replay Tests/fuzz/regressions/$$t; fi; \
	done
