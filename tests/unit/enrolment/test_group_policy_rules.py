"""The group policy rules (make policy): every name printed on the cards is bounded, clean text, each problem named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.enrolment.policies import PLANS_MAX, TEXT_MAX, check_policy
from chalicelib.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[3]
PLAN = {"name_en": "Gold", "name_ar": "الذهبية", "network_en": "Network A", "network_ar": "الشبكة أ"}
POLICY = {"policy_no": "GP-ACME-2026", "employer_en": "Acme", "employer_ar": "أكمي", "plans": {"GOLD": PLAN}}


def refused(policy: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        check_policy(policy)  # type: ignore[arg-type]
    return {field: problem.rule for field, problem in caught.value.fields.items()}


def test_the_example_policies_pass_and_come_back_as_given():
    for path in sorted((ROOT / "examples" / "policies").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert check_policy(data)["plans"] == {code: plan for code, plan in data["plans"].items()}, path.name


def test_a_name_one_character_past_its_limit_is_refused_naming_the_field_and_rule():
    for field, limit in TEXT_MAX.items():
        if field.startswith("employer"):
            assert check_policy({**POLICY, field: "x" * limit})[field] == "x" * limit
            assert refused({**POLICY, field: "x" * (limit + 1)}) == {field: "too_long"}
        else:
            plan = {**PLAN, field: "x" * (limit + 1)}
            assert refused({**POLICY, "plans": {"GOLD": plan}}) == {f"plans.GOLD.{field}": "too_long"}


@pytest.mark.parametrize("value", ["Acme\u202eevil", "Acme\x00", "Ac\u200bme", "Acme\nLtd"])
def test_control_and_invisible_characters_are_refused_not_printed(value):
    assert refused({**POLICY, "employer_en": value}) == {"employer_en": "characters"}


def test_wrong_types_are_named_errors_not_crashes():
    assert refused([1, 2]) == {"policy": "format"}
    assert refused({**POLICY, "employer_ar": 42}) == {"employer_ar": "text"}
    assert refused({**POLICY, "plans": {"GOLD": "Gold"}}) == {
        f"plans.GOLD.{f}": "required" for f in ("name_en", "name_ar", "network_en", "network_ar")}
    assert refused({**POLICY, "plans": {f"P{i}": PLAN for i in range(PLANS_MAX + 1)}}) == {"plans": "too_many"}


def test_spaces_are_single_and_trimmed():
    assert check_policy({**POLICY, "employer_en": "  Acme \u00a0 Trading  "})["employer_en"] == "Acme Trading"
