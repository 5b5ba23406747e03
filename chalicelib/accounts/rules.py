"""Checks of what a person types when registering: each problem names its field and rule."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.errors import FieldErrors
from chalicelib.kernel.civil_id import check_civil_id
from chalicelib.kernel.names import check_person_name
from chalicelib.kernel.phone import check_kuwait_mobile
from chalicelib.kernel.plurals import CHARACTERS

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
GENDERS = ("male", "female")
LANGUAGES = ("ar", "en")


@dataclass(frozen=True)
class Registration:
    civil_id: str
    name: str
    phone: str
    email: str
    gender: str
    language: str
    city: str


def check_email(raw: object, errors: FieldErrors, field: str = "email") -> str | None:
    email = str(raw or "").strip().lower()
    if not email:
        errors.add(field, "required", "Enter your email address.", "أدخل بريدك الإلكتروني.")
    elif len(email) > 254 or not EMAIL.fullmatch(email):
        errors.add(field, "invalid_email", "This is not a valid email address.", "البريد الإلكتروني غير صالح.")
    else:
        return email
    return None


def _text(body: dict[str, Any], field: str, errors: FieldErrors, en: str, ar: str, max_len: int) -> str | None:
    value = str(body.get(field) or "").strip()
    if not value:
        errors.add(field, "required", f"Enter {en}.", f"أدخل {ar}.")
    elif len(value) > max_len:
        most = CHARACTERS.of(max_len)
        errors.add(field, "too_long", f"{en.capitalize()} is at most {most.en}.", f"{ar} لا يتجاوز {most.ar}.")
    elif any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in value):
        # Line breaks, NUL, ESC, bidirectional overrides, zero-width characters: never what a person meant.
        errors.add(field, "control_characters", f"{en.capitalize()} cannot contain control characters.",
                   f"{ar} لا يمكن أن يحتوي على رموز تحكم.")
    else:
        return value
    return None


def check_registration(body: dict[str, Any], today: date) -> Registration:
    """Every field of a self-registration, all problems at once."""
    errors = FieldErrors()
    civil_id = check_civil_id(body.get("civil_id"), today=today, field="civil_id", errors=errors)
    name = check_person_name(body.get("name"), field="name", errors=errors)
    phone = check_kuwait_mobile(body.get("phone"), field="phone", errors=errors)
    email = check_email(body.get("email"), errors)
    gender = str(body.get("gender") or "").strip().lower()
    if gender not in GENDERS:
        errors.add("gender", "one_of", "Gender is male or female.", "الجنس: ذكر (male) أو أنثى (female).")
    language = str(body.get("language") or "").strip().lower()
    if language not in LANGUAGES:
        errors.add("language", "one_of", "Language is ar or en.", "اللغة: ar أو en.")
    city = _text(body, "city", errors, "your city", "مدينتك", 60)
    errors.raise_if_any()
    assert civil_id and name and phone and email and city
    return Registration(str(civil_id), name, phone.e164, email, gender, language, city)


MASK = "\u2022"  # •


def masked_civil_id(number: str | None) -> str | None:
    """A civil ID as a screen shows it, "••••••••1234": the last 4 digits, a bullet for each other one.

    Enough for its holder to recognise it, little for a shoulder or a screenshot; None when there is none.
    """
    if not number:
        return None
    return MASK * (len(number) - 4) + number[-4:]


def sign_in_names(source: str, email: str | None, civil_id: str | None) -> list[str]:
    """The login names an account answers to, the one it was made with first (source "self": the civil ID;
    "hr": the email, then the civil ID HR sent once it is the account's login)."""
    names = [civil_id, email] if source == "self" else [email, civil_id]
    return [name for name in names if name]
