"""What varies per account and stage: the template's parameters, conditions and SAM Globals."""

from __future__ import annotations


def parameters() -> dict:
    return {
        "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev",
                  "Description": "Must match the chalice stage packaged (names in config.json)"},
        "AlarmEmail": {
            "Type": "String", "AllowedPattern": "^[^@\\s]+@[^@\\s]+$",
            "Description": "Where the alarms are emailed (SNS asks the address to confirm the subscription first)"},
    }


def conditions() -> dict:
    return {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}}


def globals_() -> dict:
    """SAM Globals: what every function gets (an empty dict adds nothing)."""
    return {}
