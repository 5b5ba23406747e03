"""What varies per account and stage: the template's parameters, conditions and SAM Globals."""

from __future__ import annotations

# Template parameter -> the functions' environment variable it sets (through Globals). These
# names are not in .chalice/config.json: a function's own variable would win over Globals'.
# devstack/config.py gives them local values; `make deploy` passes them (devstack/deploy.py).
ENVIRONMENT_PARAMETERS = {
    "PublicBaseUrl": "PUBLIC_BASE_URL",
    "PaymentReturnUrl": "PAYMENT_RETURN_URL",
    "SenderEmail": "EMAIL_SENDER",
    "SmsSenderId": "SMS_SENDER_ID",
}


def _not_empty(name: str) -> dict:
    return {"Fn::Not": [{"Fn::Equals": [{"Ref": name}, ""]}]}


def parameters() -> dict:
    return {
        "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev",
                  "Description": "Must match the chalice stage packaged (names in config.json)"},
        "PublicBaseUrl": {
            "Type": "String", "Default": "", "AllowedPattern": "^(https://[^/\\s]+(/[^\\s]*)?)?$",
            "Description": "Base of the links in emails and of the payment callback, e.g. https://api.insure.kw; "
                           "empty: https://<CustomDomainName>, or (make deploy) the API's execute-api URL"},
        "PaymentReturnUrl": {
            "Type": "String", "Default": "", "AllowedPattern": "^(https://\\S+)?$",
            "Description": "The page a person's browser returns to after the payment page (required)"},
        "SenderEmail": {
            "Type": "String", "Default": "", "AllowedPattern": "^([^@\\s]+@[^@\\s]+)?$",
            "Description": "From address of every email; its domain must be an SES-verified identity (required)"},
        "SmsSenderId": {
            "Type": "String", "Default": "", "AllowedPattern": "^([A-Za-z0-9-]{1,11})?$",
            "Description": "Alphanumeric SMS sender id registered for the destination countries; empty: none"},
        "CustomDomainName": {
            "Type": "String", "Default": "",
            "Description": "Optional custom domain of the API (e.g. api.insure.kw); needs CertificateArn"},
        "CertificateArn": {
            "Type": "String", "Default": "",
            "Description": "ACM certificate for CustomDomainName, in the stack's region"},
        "AlarmEmail": {
            "Type": "String", "AllowedPattern": "^[^@\\s]+@[^@\\s]+$",
            "Description": "Where the alarms are emailed (SNS asks the address to confirm the subscription first)"},
    }


def conditions() -> dict:
    return {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "HasPublicBaseUrl": _not_empty("PublicBaseUrl"),
        "HasCustomDomain": _not_empty("CustomDomainName"),
    }


def rules() -> dict:
    """CloudFormation refuses a stack without what the app cannot run without (checked before any change)."""
    return {
        "SenderEmailGiven": {"Assertions": [{"Assert": _not_empty("SenderEmail"),
                                             "AssertDescription": "SenderEmail is required"}]},
        "PaymentReturnUrlGiven": {"Assertions": [{"Assert": _not_empty("PaymentReturnUrl"),
                                                  "AssertDescription": "PaymentReturnUrl is required"}]},
        "CertificateForCustomDomain": {
            "RuleCondition": _not_empty("CustomDomainName"),
            "Assertions": [{"Assert": _not_empty("CertificateArn"),
                            "AssertDescription": "CustomDomainName needs CertificateArn (ACM, same region)"}]},
    }


def public_base_url() -> dict:
    """PublicBaseUrl, else https://CustomDomainName, else empty (make deploy then sets the execute-api URL)."""
    return {"Fn::If": ["HasPublicBaseUrl", {"Ref": "PublicBaseUrl"},
                       {"Fn::If": ["HasCustomDomain", {"Fn::Sub": "https://${CustomDomainName}"}, ""]}]}


def environment() -> dict:
    """The per-account values every function gets as environment variables."""
    variables = {variable: {"Ref": name} for name, variable in ENVIRONMENT_PARAMETERS.items()}
    variables["PUBLIC_BASE_URL"] = public_base_url()
    return variables


def globals_() -> dict:
    """SAM Globals: what every function gets (an empty dict adds nothing).

    SAM merges Globals' Environment Variables into each function's, the function's own keys winning.
    """
    return {"Function": {"Environment": {"Variables": environment()}}}
