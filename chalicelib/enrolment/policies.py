"""Group policies: created by operations before their employer's HR files arrive."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from chalicelib.enrolment.ports import PolicyStorage
from chalicelib.errors import Conflict, FieldErrors, Text

POLICY_NO = re.compile(r"[A-Z0-9][A-Z0-9-]{2,39}")
PLAN_CODE = re.compile(r"[A-Z0-9_-]{1,20}")
PLAN_FIELDS = ("name_en", "name_ar", "network_en", "network_ar")


def check_policy(data: dict[str, Any]) -> dict[str, Any]:
    """The policy's fields, each problem named."""
    errors = FieldErrors()
    policy_no = str(data.get("policy_no") or "").strip().upper()
    if not POLICY_NO.fullmatch(policy_no):
        errors.add("policy_no", "format", "policy_no is 3 to 40 capital letters, digits or dashes.",
                   "رقم الوثيقة من 3 إلى 40 حرفًا كبيرًا أو رقمًا أو شرطة.")
    for field in ("employer_en", "employer_ar"):
        if not str(data.get(field) or "").strip():
            errors.add(field, "required", f"{field} is required.", f"الحقل {field} مطلوب.")
    plans = data.get("plans")
    if not isinstance(plans, dict) or not plans:
        errors.add("plans", "required", "At least one plan is required.", "يلزم برنامج تأميني واحد على الأقل.")
        plans = {}
    for code, plan in plans.items():
        if not PLAN_CODE.fullmatch(str(code)):
            errors.add(f"plans.{code}", "format", "A plan code is capital letters and digits.",
                       "رمز البرنامج أحرف كبيرة وأرقام.")
        for field in PLAN_FIELDS:
            if not isinstance(plan, dict) or not str(plan.get(field) or "").strip():
                errors.add(f"plans.{code}.{field}", "required", f"{field} is required.", f"الحقل {field} مطلوب.")
    errors.raise_if_any()
    return {"policy_no": policy_no, "employer_en": data["employer_en"].strip(),
            "employer_ar": data["employer_ar"].strip(),
            "plans": {str(code).upper(): {f: plan[f].strip() for f in PLAN_FIELDS} for code, plan in plans.items()}}


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
