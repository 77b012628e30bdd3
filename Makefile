# Every target does its own set-up: the virtualenv is created and the hash-locked requirements are
# installed on first use (and again whenever a lock file changes). requirements.txt is the deploy
# set, all that `pulumi up` runs on: the program and the policy pack (deploy-venv, what the
# pipeline's Azure jobs install); requirements-dev.txt adds the test, lint and ops tools (venv).
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
PIP_INSTALL := -m pip install --quiet --disable-pip-version-check --require-hashes

.PHONY: help deploy-venv venv kql-check plan plan-bootstrap test lint benchmark snapshot docs lock clean

help:  ## this list: every target with what it does (`make` alone shows it)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-22s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.deploy: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) $(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed: $(VENV)/.deploy requirements-dev.txt
	$(PY) $(PIP_INSTALL) -r requirements-dev.txt
	touch $@

deploy-venv: $(VENV)/.deploy  ## create .venv with the deploy set only (what pulumi up runs on), hash-checked

venv: $(VENV)/.installed  ## create .venv with the deploy set and the test, lint and ops tools, hash-checked

# Microsoft's Kusto language service (npm, locked with integrity hashes) checks the KQL in
# monitoring/queries; tests only, nothing the program or `pulumi up` needs.
KQL_CHECK := monitoring/kql-check
$(KQL_CHECK)/node_modules/.installed: $(KQL_CHECK)/package-lock.json
	npm ci --prefix $(KQL_CHECK) --no-audit --no-fund --loglevel=error
	touch $@

kql-check: $(KQL_CHECK)/node_modules/.installed  ## install the KQL checker the tests use (Node.js, npm)

PREVIEW ?=
CATALOG ?=
BASE ?= HEAD

plan: venv  ## offline preview of one stack, deterministic: make plan STACK=prod [PREVIEW=first | PREVIEW=update BASE=main]; STACK=bootstrap plans bootstrap/
	$(PY) -m offline.preview $(STACK) $(if $(PREVIEW),--preview $(PREVIEW)) $(if $(filter update,$(PREVIEW)),--base $(BASE)) $(if $(CATALOG),--catalog $(CATALOG))

plan-bootstrap: venv  ## offline preview of the bootstrap program (bootstrap/): state backend and pipeline identities
	$(PY) -m offline.preview bootstrap

test: venv kql-check  ## the whole suite, every stack file included
	$(PY) -m pytest

lint: venv  ## static checks: ruff (style, errors) and mypy (types); bootstrap/ is its own program
	$(PY) -m ruff check .
	$(PY) -m mypy
	cd bootstrap && MYPYPATH=.. ../$(PY) -m mypy --config-file ../pyproject.toml *.py  # it imports the parent's modules

# checkov, hash-locked in requirements-scan.txt, in a virtualenv of its own: neither the deploy set
# nor the test tools carry it (docs/scan.md).
SCAN_VENV := build/scan-venv
$(SCAN_VENV)/.installed: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python $(PIP_INSTALL) -r requirements-scan.txt
	touch $@

.PHONY: scan
scan: venv $(SCAN_VENV)/.installed  ## checkov's Azure checks on the ARM export of a plan; fails on unjustified findings: make scan STACK=prod
	$(PY) scripts/scan.py $(STACK) --checkov $(SCAN_VENV)/bin/checkov

benchmark: venv  ## CPU (and wall) time of `make plan` against importing the SDK modules it uses, and the SDK alone registering its resources; exits 1 above 1.2x
	$(PY) scripts/benchmark.py

snapshot: venv  ## record each stack's resource URNs in tests/snapshots/ (after adding or removing a resource, or an alias)
	$(PY) -m offline.urn_snapshot

docs: venv  ## regenerate docs/identity-matrix.md from catalog/tools.yaml, and the identity table of docs/operations.md from the offline plans
	$(PY) -m agent_obo.identity_matrix
	$(PY) -m offline.access_table

# After changing a pin in a .in file: re-resolve and re-hash both lock files. The deploy set is locked
# under the constraint of the dev lock, so both give every shared package the same version.
LOCK_TOOL := build/pip-tools
PIP_COMPILE := $(LOCK_TOOL)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--index-url https://pypi.org/simple --no-emit-index-url --no-emit-find-links
lock:  ## re-resolve requirements*.in into the hash-locked requirements*.txt (pip-tools, needs PyPI)
	$(PYTHON) -m venv $(LOCK_TOOL)
	$(LOCK_TOOL)/bin/python -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) --constraint requirements-dev.txt --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-scan.txt requirements-scan.in

clean:  ## remove build output and test caches
	rm -rf build .pytest_cache

# --- Operating a deployed stack (docs/operations.md). These call the Pulumi CLI, signed in to the
# stack's backend (`pulumi login`) and to Azure (`az login`); the ops scripts read the offline plan.
CONNECTOR ?=
EXECUTE ?=
UNPROTECT ?=

.PHONY: preview up policy-bundle recreate-connections authorize-connections grant-sign-in protected destroy pulumi-cli azure-cli

# Targets that call the Pulumi CLI or reach Azure check for what they need first, before building
# anything, and say how to get it. The CLI release that matches the pinned pulumi SDK:
PULUMI_CLI_VERSION := $(shell sed -n 's/^pulumi==\([0-9.]*\).*/\1/p' requirements.in)
pulumi-cli:  ## check that the Pulumi CLI is installed (every target that runs it checks first)
	@command -v pulumi >/dev/null 2>&1 || { \
	  echo "error: this target runs the Pulumi CLI, which is not on PATH. Install it:" >&2; \
	  echo "  curl -fsSL https://get.pulumi.com | sh -s -- --version $(PULUMI_CLI_VERSION)" >&2; \
	  echo "  (or see https://www.pulumi.com/docs/iac/download-install/), then pulumi login" >&2; \
	  echo "  (docs/operations.md: the team's state backend). Offline, without it: make plan STACK=$(STACK)" >&2; \
	  exit 127; }

# azure-native and azuread sign in with the Azure CLI's session, unless a pipeline gives them an
# identity through the environment (ARM_USE_OIDC / ARM_CLIENT_ID, .github/workflows).
azure-cli:  ## check that the Azure CLI is installed and signed in, unless a pipeline identity is set
	@if [ -z "$$ARM_USE_OIDC$$ARM_CLIENT_ID" ]; then \
	  command -v az >/dev/null 2>&1 || { \
	    echo "error: this target reaches Azure through the Azure CLI's sign-in, and az is not on PATH." >&2; \
	    echo "  Install it: https://learn.microsoft.com/cli/azure/install-azure-cli, then az login" >&2; \
	    exit 127; }; \
	  az account show >/dev/null 2>&1 || { \
	    echo "error: the Azure CLI is not signed in: run az login (and az account set --subscription ...)" >&2; \
	    exit 1; }; \
	fi

# Every command that previews or deploys runs the policy pack. The pack learns the stack and its config
# from the engine and reads its own configuration for the stack (policy/config/<stack>.json): there is
# nothing else to pass, and no flag here can loosen it. It runs in the project's virtualenv
# (policy/PulumiPolicy.yaml: virtualenv ../.venv) because it derives what each stack declares with agent_obo.
preview: pulumi-cli azure-cli deploy-venv  ## pulumi preview of one stack, judged by the policy pack: make preview STACK=prod
	pulumi preview --stack $(STACK) --policy-pack policy

up: pulumi-cli azure-cli deploy-venv  ## pulumi up of one stack, judged by the policy pack: make up STACK=dev
	pulumi up --stack $(STACK) --policy-pack policy

policy-bundle: deploy-venv  ## the pack with the code it imports, for pulumi policy publish: build/policy-pack
	$(PY) -m policy.bundle

recreate-connections: $(if $(filter 1,$(EXECUTE)),pulumi-cli azure-cli) venv  ## recreate one connector's per-user connections: make recreate-connections STACK=prod CONNECTOR=office365 [EXECUTE=1]
	$(PY) -m ops.recreate_connections $(STACK) $(CONNECTOR) $(if $(filter 1,$(EXECUTE)),--execute)

authorize-connections: pulumi-cli azure-cli venv  ## sign in once to each per-user and OAuth app-only connection of a deployed stack: make authorize-connections STACK=prod
	$(PY) -m ops.authorize_connections $(STACK)

grant-sign-in: pulumi-cli azure-cli venv  ## an administrator's step: consent to the chat app's scopes and assign who may sign in: make grant-sign-in STACK=prod [EXECUTE=1]
	$(PY) -m ops.grant_sign_in $(STACK) $(if $(filter 1,$(EXECUTE)),--execute)

protected: venv  ## the resources a stack protects, and the unprotect commands destroy needs: make protected STACK=prod
	$(PY) -m ops.protected_resources $(STACK)

destroy: pulumi-cli azure-cli venv  ## pulumi destroy of one stack; a stack that protects resources needs UNPROTECT=1: make destroy STACK=dev
	$(PY) -m ops.protected_resources $(STACK) $(if $(filter 1,$(UNPROTECT)),--unprotect,--refuse-if-protected)
	pulumi destroy --stack $(STACK)
