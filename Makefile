# Two commands on a fresh machine: `make run` and `make test`. Each makes .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
REGION ?= me-south-1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench package deploy deploy-bucket-given job drop policy clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

## The whole system on an embedded AWS: API on :8000, moto on :5000 (MOTO_PORT, API_PORT).
run: venv
	$(BIN)/python -m devstack run

## Run one scheduled or queue function now against the running local stack: make job NAME=...
job: venv
	$(BIN)/python -m devstack job $(NAME)

## Drop an HR file into the local HR bucket: make drop FILE=examples/hr/acme-2026.csv POLICY=GP-ACME-2026
drop: venv
	$(BIN)/python -m devstack drop $(FILE) $(POLICY)

## Create a group policy on the running local stack (or a stage: STAGE=prod with AWS credentials)
policy: venv
	$(BIN)/python -m devstack policy $(FILE)

## The whole suite and the linter; non-zero on any failure.
test: venv
	sh tests/browser/install-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

## The Lambda package and its CloudFormation template, in build/ (STAGE=dev|prod).
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
