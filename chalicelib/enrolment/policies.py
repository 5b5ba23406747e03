"""Group policies: created by operations before their employer's HR files arrive."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from chalicelib.enrolment.ports import PolicyStorage
from chalicelib.errors import Conflict, FieldErrors, Text, ValidationFailed

POLICY_NO = re.compile(r"[A-Z0-9][A-Z0-9-]{2,39}")
PLAN_CODE = re.compile(r"[A-Z0-9_-]{1,20}")
PLAN_FIELDS = ("name_en", "name_ar", "network_en", "network_ar")
# Printed on every card of the policy: the card wraps and shrinks, but past this a line of text
# is no longer a name a receptionist reads; at these limits the longest card still fits the ID-1 card
# (tests/unit/cards/test_render_layout.py), the employer and network on two lines each.
TEXT_MAX = {"employer_en": 60, "employer_ar": 60, "name_en": 30, "name_ar": 30, "network_en": 60, "network_ar": 60}
PLANS_MAX = 20


def _text(data: dict[str, Any], field: str, where: str, errors: FieldErrors) -> str:
    """A name printed on cards: text, no control or invisible characters, single spaces, at most TEXT_MAX[field]."""
    value = data.get(field) if isinstance(data, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add(where, "required", f"{where} is required.", f"الحقل {where} مطلوب.")
        return ""
    if not isinstance(value, str):
        errors.add(where, "text", f"{where} must be text.", f"الحقل {where} يجب أن يكون نصًا.")
        return ""
    value = unicodedata.normalize("NFC", value)
    # A line break or tab is refused like any control character; space separators are spaces.
    text = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in value)
    text = " ".join(part for part in text.split(" ") if part)
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        errors.add(where, "characters", f"{where} has a control or invisible character.",
                   f"الحقل {where} فيه حرف تحكم أو حرف غير مرئي.")
    elif len(text) > TEXT_MAX[field]:
        errors.add(where, "too_long", f"{where} is at most {TEXT_MAX[field]} characters.",
                   f"الحقل {where} لا يتجاوز {TEXT_MAX[field]} حرفًا.")
    return text


def check_policy(data: object) -> dict[str, Any]:
    """The policy's fields, each problem named."""
    errors = FieldErrors()
    if not isinstance(data, dict):
        errors.add("policy", "format", "A policy is a JSON object.", "الوثيقة كائن JSON.")
        raise ValidationFailed(fields=errors.problems)
    policy_no = str(data.get("policy_no") or "").strip().upper()
    if not POLICY_NO.fullmatch(policy_no):
        errors.add("policy_no", "format", "policy_no is 3 to 40 capital letters, digits or dashes.",
                   "رقم الوثيقة من 3 إلى 40 حرفًا كبيرًا أو رقمًا أو شرطة.")
    employer = {field: _text(data, field, field, errors) for field in ("employer_en", "employer_ar")}
    plans = data.get("plans")
    if not isinstance(plans, dict) or not plans:
        errors.add("plans", "required", "At least one plan is required.", "يلزم برنامج تأميني واحد على الأقل.")
        plans = {}
    elif len(plans) > PLANS_MAX:
        errors.add("plans", "too_many", f"A policy has at most {PLANS_MAX} plans.",
                   f"الوثيقة لا تتجاوز {PLANS_MAX} برنامجًا.")
        plans = {}
    checked: dict[str, dict[str, str]] = {}
    for code, plan in plans.items():
        if not PLAN_CODE.fullmatch(str(code)):
            errors.add(f"plans.{code}"[:40], "format", "A plan code is capital letters and digits.",
                       "رمز البرنامج أحرف كبيرة وأرقام.")
            continue
        fields = plan if isinstance(plan, dict) else {}
        checked[str(code).upper()] = {f: _text(fields, f, f"plans.{code}.{f}", errors) for f in PLAN_FIELDS}
    errors.raise_if_any()
    return {"policy_no": policy_no, **employer, "plans": checked}


def create_group_policy(store: PolicyStorage, data: dict[str, Any], now: datetime, *,
                        replace: bool = False) -> dict[str, Any]:
    """Store a new group policy (or replace one when asked); refuses to overwrite by accident."""
    policy = check_policy(data)
    if store.policy(policy["policy_no"]) is not None and not replace:
        raise Conflict(Text(f"Group policy {policy['policy_no']} exists; pass --replace to change it.",
                            f"الوثيقة {policy['policy_no']} موجودة؛ استخدم --replace لتعديلها."),
                       code="POLICY_EXISTS")
    store.put_policy(policy, now)
    return policy
