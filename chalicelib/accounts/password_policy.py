"""The rules a new password must pass (issue 3, point 9), with both-language messages.

Pure: the common-password list is passed in as `is_common`, and the "not one of
your last 5" rule is checked by the service, which holds the stored hashes; this
module only gives it the rule name and message so every refusal reads the same.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.errors import FieldProblem, Text, ValidationFailed
from chalicelib.kernel.civil_id import ascii_digits

MIN_LENGTH = 8
MAX_LENGTH = 128
HISTORY_SIZE = 5  # a new password must differ from this many previous ones
# Shorter local parts ("ali", "mo") are common inside ordinary words; refusing them
# would refuse many good passwords for no gain.
MIN_EMAIL_PART = 4
MIN_NAME_PART = 4

RULE_REQUIRED = "required"
RULE_CONTROL_CHARACTERS = "control_characters"
RULE_MIN_LENGTH = "min_length"
RULE_MAX_LENGTH = "max_length"
RULE_CONTAINS_EMAIL = "contains_email"
RULE_CONTAINS_CIVIL_ID = "contains_civil_id"
RULE_CONTAINS_NAME = "contains_name"
RULE_COMMON = "common_password"
RULE_REUSED = "reused_password"

MESSAGES: dict[str, Text] = {
    RULE_REQUIRED: Text("Enter a password.", "أدخل كلمة المرور."),
    RULE_CONTROL_CHARACTERS: Text(
        "The password cannot contain control characters such as line breaks or tabs.",
        "لا يمكن أن تحتوي كلمة المرور على رموز تحكم مثل فواصل الأسطر أو علامات الجدولة.",
    ),
    RULE_MIN_LENGTH: Text(
        "The password needs at least {min} characters; this one has {count}.",
        "يجب أن تتكون كلمة المرور من {min} أحرف على الأقل؛ والمدخلة من {count}.",
    ),
    RULE_MAX_LENGTH: Text(
        "The password can have at most {max} characters; this one has {count}.",
        "يجب ألا تزيد كلمة المرور على {max} حرفًا؛ والمدخلة من {count}.",
    ),
    RULE_CONTAINS_EMAIL: Text(
        "The password must not contain your email address or the part before the @.",
        "يجب ألا تحتوي كلمة المرور على بريدك الإلكتروني أو على الجزء الذي يسبق @ فيه.",
    ),
    RULE_CONTAINS_CIVIL_ID: Text(
        "The password must not contain your civil ID number.",
        "يجب ألا تحتوي كلمة المرور على رقمك المدني.",
    ),
    RULE_CONTAINS_NAME: Text(
        "The password must not contain your name.",
        "يجب ألا تحتوي كلمة المرور على اسمك.",
    ),
    RULE_COMMON: Text(
        "This password is too common and easy to guess; choose another.",
        "كلمة المرور هذه شائعة ويسهل تخمينها؛ اختر كلمة مرور أخرى.",
    ),
    RULE_REUSED: Text(
        f"Choose a password you have not used recently: it must differ from your last {HISTORY_SIZE}.",
        f"اختر كلمة مرور لم تستخدمها مؤخرًا: يجب أن تختلف عن آخر {HISTORY_SIZE} كلمات مرور استخدمتها.",
    ),
}


def password_error(rule: str, *, field: str = "new_password", **values: object) -> ValidationFailed:
    """The validation error for one password rule, naming `field` and the rule."""
    text = MESSAGES[rule].format(**values) if values else MESSAGES[rule]
    return ValidationFailed(fields={field: FieldProblem(rule, text)})


def reused_password_error(field: str = "new_password") -> ValidationFailed:
    """The error the service raises when the new password matches one of the last HISTORY_SIZE."""
    return password_error(RULE_REUSED, field=field)


def check_new_password(
    password: object,
    *,
    field: str = "new_password",
    email: str | None = None,
    civil_id: str | None = None,
    name: str | None = None,
    is_common: Callable[[str], bool],
) -> None:
    """Raise ValidationFailed naming `field` and the first rule `password` breaks; return if it passes."""
    if not isinstance(password, str) or password == "":
        raise password_error(RULE_REQUIRED, field=field)
    # Cc covers NUL, line breaks, tabs and DEL; Cs (lone surrogates, which JSON can
    # carry) cannot be encoded for hashing. Format marks (Cf) stay allowed: Arabic
    # keyboards insert direction marks and joiners.
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in password):
        raise password_error(RULE_CONTROL_CHARACTERS, field=field)
    count = len(password)  # code points, as people count characters, not UTF-8 bytes
    if count < MIN_LENGTH:
        raise password_error(RULE_MIN_LENGTH, field=field, min=MIN_LENGTH, count=count)
    if count > MAX_LENGTH:
        raise password_error(RULE_MAX_LENGTH, field=field, max=MAX_LENGTH, count=count)

    folded = password.casefold()
    if email and _contains_email(folded, email):
        raise password_error(RULE_CONTAINS_EMAIL, field=field)
    if civil_id and _contains_civil_id(password, civil_id):
        raise password_error(RULE_CONTAINS_CIVIL_ID, field=field)
    if name and _contains_name(folded, name):
        raise password_error(RULE_CONTAINS_NAME, field=field)
    # Last: the list lookup may load the list, and a refusal above is more useful.
    if is_common(password):
        raise password_error(RULE_COMMON, field=field)


def _contains_email(folded_password: str, email: str) -> bool:
    address = email.strip().casefold()
    local = address.split("@", 1)[0]
    if address and address in folded_password:
        return True
    return len(local) >= MIN_EMAIL_PART and local in folded_password


def _contains_civil_id(password: str, civil_id: str) -> bool:
    # Phones with an Arabic keyboard type the same number in Arabic-Indic digits.
    number = ascii_digits(civil_id.strip())
    return bool(number) and number in ascii_digits(password)


def _contains_name(folded_password: str, name: str) -> bool:
    parts = name.casefold().split()
    return any(len(part) >= MIN_NAME_PART and part in folded_password for part in parts)


# The one reminder before a permanent password expires.
REMINDER_BEFORE = timedelta(days=7)


def password_expires_at(kind: str | None, set_at: datetime | None, *, max_age_days: int,
                        temporary_days: int) -> datetime | None:
    """When a password stops working: a temporary one after its days, a permanent one after the
    maximum age (0: never); None for no password, or one already expired."""
    if set_at is None:
        return None
    if kind == "temporary":
        return set_at + timedelta(days=temporary_days)
    if kind == "permanent" and max_age_days:
        return set_at + timedelta(days=max_age_days)
    return None


def password_due(kind: str | None, set_at: datetime | None, reminded_for: datetime | None,
                 max_age_days: int, temporary_days: int) -> datetime | None:
    """When the password job next has something to do with this password, if ever."""
    expires = password_expires_at(kind, set_at, max_age_days=max_age_days, temporary_days=temporary_days)
    if expires is None or kind == "temporary":
        return expires
    return expires if reminded_for == set_at else expires - REMINDER_BEFORE
