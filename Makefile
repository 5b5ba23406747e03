# Two commands on a fresh machine: `make run` and `make test`. Each makes .venv when missing.
# Python 3.13 for everything: Lambda's python3.13 runtime runs the package, and Chalice names
# the template's Runtime after the interpreter that packages, so the tests, make run and
# make package all run on it. PYTHON is the first interpreter found that really is 3.13
# (a pyenv shim that points elsewhere doesn't count): pyenv's (.python-version names it),
# then python3.13 on PATH. With none, `make python` installs one (see the README).
PYTHON_VERSION := 3.13
IS_PYTHON_VERSION := import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PYTHON_VERSION)")
PYTHON ?= $(shell for p in "$$(pyenv prefix $(PYTHON_VERSION) 2>/dev/null)/bin/python$(PYTHON_VERSION)" \
	$$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION) 2>/dev/null | sort -rV) \
	"$$(command -v python$(PYTHON_VERSION))" /usr/bin/python$(PYTHON_VERSION) /usr/local/bin/python$(PYTHON_VERSION); do \
	[ -x "$$p" ] && "$$p" -c '$(IS_PYTHON_VERSION)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
# A venv made by another Python (an older .venv of 3.11) is made anew, never reused.
ifneq ($(shell $(BIN)/python -c '$(IS_PYTHON_VERSION)' 2>/dev/null && echo same),same)
$(BIN)/.installed: .FORCE
endif
STAGE ?= dev
REGION ?= me-south-1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run reset test check lint bench package deploy deploy-bucket-given job drop policy provider clean venv python python-path checkov lock .FORCE

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@if [ -e $(BIN)/python ] && ! $(BIN)/python -c '$(IS_PYTHON_VERSION)' 2>/dev/null; then \
		echo "$(VENV) is $$($(BIN)/python -V 2>&1 || echo broken), not Python $(PYTHON_VERSION): making it anew"; \
		rm -rf $(VENV); fi
	@test -n "$(PYTHON)" || $(MAKE) --no-print-directory python
	@py="$(or $(PYTHON),$$($(MAKE) -s --no-print-directory python-path))"; \
		"$$py" -c '$(IS_PYTHON_VERSION)' || { echo "PYTHON=$$py is not Python $(PYTHON_VERSION)" >&2; exit 1; }; \
		test -x $(BIN)/python || { echo "$$py -m venv $(VENV)"; "$$py" -m venv $(VENV); }
	$(BIN)/pip install -q --require-hashes -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

.FORCE:

python-path:
	@echo $(PYTHON)

## Install Python $(PYTHON_VERSION) when no interpreter of that version is found (make venv calls it).
python:
	@if [ -n "$(PYTHON)" ]; then echo "Python $(PYTHON_VERSION): $(PYTHON)"; exit 0; fi; \
	if command -v pyenv >/dev/null && pyenv install --skip-existing $(PYTHON_VERSION); then exit 0; fi; \
	if command -v apt-get >/dev/null && apt-get update -qq \
		&& apt-cache show python$(PYTHON_VERSION)-venv >/dev/null 2>&1 \
		&& apt-get install -y -qq python$(PYTHON_VERSION) python$(PYTHON_VERSION)-venv; then exit 0; fi; \
	echo "No Python $(PYTHON_VERSION) here, and neither pyenv nor apt could install one:" \
		"install CPython $(PYTHON_VERSION) (python.org, pyenv, or your distribution) and run make again," \
		"or name it: make PYTHON=/path/to/python$(PYTHON_VERSION) ..." >&2; exit 1

## checkov over the packaged prod template: each finding fixed, or accepted with its reason in .checkov.yaml.
## Its own venv: checkov's many dependencies stay out of the app's.
CHECKOV := .venv-checkov/bin/checkov
$(CHECKOV): requirements-checkov.txt | venv
	$(BIN)/python -m venv .venv-checkov
	.venv-checkov/bin/pip install -q --require-hashes -r requirements-checkov.txt
	touch $@

checkov: venv $(CHECKOV)
	rm -rf build-checkov
	AWS_DEFAULT_REGION=$(REGION) $(BIN)/chalice package --stage prod --merge-template resources.json build-checkov/
	$(CHECKOV) -f build-checkov/sam.json --config-file .checkov.yaml

## Recompile the lock files (README: "Dependencies and why"): the .in files name the direct dependencies;
## each .txt pins every package, transitive ones included, with the hashes of all its files (every
## platform's wheels: chalice package fetches the arm64 ones). requirements.txt, the Lambda's, is the
## part of requirements-dev.txt's resolution that requirements.in needs, so the tests run what ships.
## Pins that still fit are kept; UPGRADE="pkg1 pkg2" moves those to their newest allowed, UPGRADE=all
## everything. pip-compile runs from .venv-lock, made on demand here: make run and make test never need it.
LOCK_VENV := .venv-lock
PIP_COMPILE := $(LOCK_VENV)/bin/pip-compile
LOCK_FLAGS = --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --quiet
UPGRADE_FLAGS = $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))
$(PIP_COMPILE): requirements-lock.txt
	@test -n "$(PYTHON)" || { echo "make lock needs Python $(PYTHON_VERSION) (make python)" >&2; exit 1; }
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q --require-hashes -r requirements-lock.txt
	cp requirements-lock.txt $(LOCK_VENV)/installed.txt
	touch $@

lock: $(PIP_COMPILE)
	CUSTOM_COMPILE_COMMAND="make lock" $(PIP_COMPILE) $(LOCK_FLAGS) $(UPGRADE_FLAGS) -o requirements-dev.txt requirements-dev.in
	CUSTOM_COMPILE_COMMAND="make lock" $(PIP_COMPILE) $(LOCK_FLAGS) --upgrade -c requirements-dev.txt -o requirements.txt requirements.in
	CUSTOM_COMPILE_COMMAND="make lock" $(PIP_COMPILE) $(LOCK_FLAGS) $(UPGRADE_FLAGS) -o requirements-checkov.txt requirements-checkov.in
	CUSTOM_COMPILE_COMMAND="make lock" $(PIP_COMPILE) $(LOCK_FLAGS) $(UPGRADE_FLAGS) -o requirements-lock.txt requirements-lock.in
	@# pip-compile rewrites the file even when nothing changed: the venv stays while it holds what the lock says.
	@! cmp -s requirements-lock.txt $(LOCK_VENV)/installed.txt || touch $(PIP_COMPILE)

## The whole system on an embedded AWS: API on :8000, moto on :5000 (MOTO_PORT, API_PORT). Its files are in
## .local/ (LOCAL_DIR): an outbox emptied at each start, stack.json (where it listens, while it runs) and
## state/ (the embedded AWS's data, saved at Ctrl-C and loaded by the next make run; make reset forgets it).
## A port in use fails at once, naming it and what holds it.
run: venv
	$(BIN)/python -m devstack run

## Forget the embedded AWS's saved data (and the outbox and sandbox sessions): the next make run starts clean.
reset: venv
	$(BIN)/python -m devstack reset

## Run one scheduled function now against the running local stack: make job NAME=...
## AT=<ISO date or time, UTC> runs it as of then (the scheduled event's time): make job NAME=remind_renewals AT=2027-01-30
## job, drop and policy find the running make run by .local/stack.json, whatever its ports.
job: venv
	$(BIN)/python -m devstack job $(NAME) $(if $(AT),--at $(AT))

## Drop an HR file into the local HR bucket: make drop FILE=examples/hr/acme-2026.csv POLICY=GP-ACME-2026
drop: venv
	$(BIN)/python -m devstack drop $(FILE) $(POLICY)

## Create a group policy on the running local stack
policy: venv
	$(BIN)/python -m devstack policy $(FILE)

## Create a provider (hospital or clinic) on the running local stack: make provider NAME="Al-Amiri Hospital".
## Prints its client id and secret once (only a hash is kept); POST /oauth2/token takes them (README "Provider access").
provider: venv
	$(BIN)/python -m admin create-provider --local "$(NAME)"

## The whole suite, the linter and the type check; non-zero on any failure. Both cores: pytest-xdist's
## workers (PYTEST_WORKERS=1 for one); the make run tests share a worker (they share .local/).
PYTEST_WORKERS ?= 2
test: venv
	sh tests/browser/install-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup
	$(MAKE) --no-print-directory checkov

## The fast part, in well under a minute: lint, types, and every test that needs neither the embedded AWS
## nor a slow rig (use cases on fakes, the fakes' contract half, rules, layout). `make test` runs all.
check: venv
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -m "not slow and not moto" -q

lint: venv
	$(BIN)/ruff check .

## The Lambda package and its CloudFormation template, in build/ (STAGE=dev|prod).
## Runtime python3.13 (the venv's Python) on arm64 (lambda_architecture in .chalice/config.json).
package: venv
	rm -rf build
	AWS_DEFAULT_REGION=$(REGION) $(BIN)/chalice package --stage $(STAGE) --merge-template resources.json build/
	$(BIN)/python -m devstack.slim_package build/deployment.zip

## Package, upload to ARTIFACTS_BUCKET and create or update the stack insure-$(STAGE) through a change set.
## Parameters: deploy/$(STAGE).json, then PUBLIC_BASE_URL, PAYMENT_RETURN_URL, SENDER_EMAIL, SMS_SENDER_ID,
## ALARM_EMAIL, CUSTOM_DOMAIN, CERTIFICATE_ARN. README: "Deploying a stage to AWS".
deploy: deploy-bucket-given package
	$(BIN)/python -m devstack.deploy --stage $(STAGE) --region $(REGION) --bucket $(ARTIFACTS_BUCKET) --build build \
	  $(if $(STACK_NAME),--stack-name $(STACK_NAME)) $(if $(PARAMS),--params $(PARAMS)) $(DEPLOY_FLAGS) \
	  --param 'PublicBaseUrl=$(PUBLIC_BASE_URL)' --param 'PaymentReturnUrl=$(PAYMENT_RETURN_URL)' \
	  --param 'SenderEmail=$(SENDER_EMAIL)' --param 'SmsSenderId=$(SMS_SENDER_ID)' \
	  $(if $(ALARM_EMAIL),--param 'AlarmEmail=$(ALARM_EMAIL)') \
	  --param 'CustomDomainName=$(CUSTOM_DOMAIN)' --param 'CertificateArn=$(CERTIFICATE_ARN)'

deploy-bucket-given:
	@test -n "$(ARTIFACTS_BUCKET)" || { echo "make deploy needs ARTIFACTS_BUCKET=<a bucket in $(REGION)>"; exit 2; }

## Speed, memory and request counts against their targets.
bench: venv package
	$(BIN)/python -m bench

clean:
	rm -rf build .local $(VENV)
