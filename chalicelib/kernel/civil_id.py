"""Kuwait civil ID numbers (الرقم المدني) and ages computed from them.

Layout of the 12 digits: C YYMMDD SSSS K
- C: century of birth, 2 -> 1900s, 3 -> 2000s;
- YYMMDD: date of birth, a real date, not after today;
- SSSS: serial;
- K: check digit over the first 11 digits with weights 2,1,6,3,7,9,10,5,8,4,2:
  K = 11 - (sum mod 11).

The two edge cases of that formula, and what public code does with them:
- sum mod 11 == 0 gives 11, which is not a digit. Written as a congruence, the
  rule is weights·digits + K ≡ 0 (mod 11), which makes K = 0. python-stdnum
  (`stdnum.kw.cid`: `(11 - total % 11) % 11`) and the TypeScript validators that
  cite https://prakhar.me/articles/kuwait-civil-id-checksum/ accept K = 0 there.
  django-localflavor (`kw/forms.py`: `11 - remainder` compared with the digit)
  refuses it. We accept 0: refusing would lock real residents out of
  registration, while accepting lets through at most one ID in eleven that
  PACI never issues, which the civil ID's owner still has to prove at login.
- sum mod 11 == 1 gives 10, which no single digit can hold: PACI skips such
  serials, so every validator above refuses them, and so do we.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chalicelib.errors import FieldErrors

WEIGHTS = (2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CENTURIES = {"2": 1900, "3": 2000}
LENGTH = 12

# Phones with an Arabic keyboard type Arabic-Indic (٠-٩) or Persian (۰-۹) digits.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def ascii_digits(text: str) -> str:
    """The text with Arabic-Indic and Persian digits replaced by 0-9."""
    return text.translate(_DIGITS)


@dataclass(frozen=True, repr=False)
class CivilId:
    """A checked civil ID number and the birth date it encodes."""

    number: str
    birth_date: date

    @property
    def serial(self) -> str:
        return self.number[7:11]

    def masked(self) -> str:
        """The number fit for logs: only the last 4 digits show."""
        return "*" * (LENGTH - 4) + self.number[-4:]

    def __str__(self) -> str:
        return self.number

    def __repr__(self) -> str:
        # A repr lands in logs and tracebacks: never the full number there.
        return f"CivilId({self.masked()!r})"


def expected_check_digit(first_eleven: str) -> int | None:
    """The check digit for 11 leading digits, or None when no valid ID can start so."""
    remainder = sum(int(d) * w for d, w in zip(first_eleven, WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def parse_civil_id(raw: object, *, today: date, field: str = "civil_id") -> CivilId:
    """Check a civil ID typed by a person and return it, or raise ValidationFailed naming `field`."""
    errors = FieldErrors()
    civil_id = _parse(raw, today=today, field=field, errors=errors)
    errors.raise_if_any()
    assert civil_id is not None
    return civil_id


def check_civil_id(raw: object, *, today: date, field: str, errors: FieldErrors) -> CivilId | None:
    """Like parse_civil_id, but add the problem to `errors` and return None, to collect many."""
    return _parse(raw, today=today, field=field, errors=errors)


def is_valid_civil_id(raw: object, *, today: date) -> bool:
    """Whether `raw` is a valid civil ID on `today`."""
    return _parse(raw, today=today, field="civil_id", errors=FieldErrors()) is not None


def compose_civil_id(birth_date: date, serial: str) -> str:
    """A valid civil ID for a birth date and 4-digit serial (for demo data and tests)."""
    century = next((c for c, base in CENTURIES.items() if base <= birth_date.year < base + 100), None)
    if century is None or len(serial) != 4 or not serial.isdecimal():
        raise ValueError("birth year must be 1900-2099 and serial 4 digits")
    first = f"{century}{birth_date:%y%m%d}{serial}"
    check = expected_check_digit(first)
    if check is None:
        raise ValueError(f"serial {serial} gives no check digit for {birth_date}")
    return f"{first}{check}"


def _parse(raw: object, *, today: date, field: str, errors: FieldErrors) -> CivilId | None:
    def fail(rule: str, en: str, ar: str) -> None:
        errors.add(field, rule, en, ar)

    if not isinstance(raw, str) or not raw.strip():
        fail("required", "Enter the civil ID number.", "أدخل الرقم المدني.")
        return None
    # People copy the number with spaces or dashes; those carry no meaning.
    number = ascii_digits("".join(ch for ch in raw if ch not in " -\u00a0\t"))
    if not number.isascii() or not number.isdecimal():
        fail(
            "digits_only",
            "The civil ID number has digits only.",
            "الرقم المدني يتكون من أرقام فقط.",
        )
        return None
    if len(number) != LENGTH:
        fail(
            "length",
            f"The civil ID number has 12 digits; this one has {len(number)}.",
            f"الرقم المدني يتكون من 12 رقمًا؛ والمدخل {len(number)} رقمًا.",
        )
        return None
    base = CENTURIES.get(number[0])
    if base is None:
        fail(
            "century",
            "A civil ID number starts with 2 or 3.",
            "يبدأ الرقم المدني بالرقم 2 أو 3.",
        )
        return None
    try:
        birth = date(base + int(number[1:3]), int(number[3:5]), int(number[5:7]))
    except ValueError:
        fail(
            "birth_date",
            "Digits 2 to 7 of a civil ID number are a date of birth; these are not a real date.",
            "الأرقام من 2 إلى 7 في الرقم المدني هي تاريخ الميلاد، وهذه ليست تاريخًا صحيحًا.",
        )
        return None
    if birth > today:
        fail(
            "birth_date_future",
            "The date of birth in this civil ID number is in the future.",
            "تاريخ الميلاد في هذا الرقم المدني في المستقبل.",
        )
        return None
    if expected_check_digit(number[:11]) != int(number[11]):
        fail(
            "check_digit",
            "This civil ID number is not valid: check it for a typing mistake.",
            "هذا الرقم المدني غير صحيح: تأكد من عدم وجود خطأ في الكتابة.",
        )
        return None
    return CivilId(number, birth)


def age_on(birth_date: date, on: date) -> int:
    """Completed years of age on the date `on`."""
    # Someone born on 29 February turns a year older on 1 March in common years:
    # (2, 28) < (2, 29), so nobody counts as older before the day they really are.
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - before_birthday


def is_older_than(birth_date: date, years: int, on: date) -> bool:
    """Whether the person has more than `years` completed years of age on `on`."""
    # "Older than 12" means 13 or more: someone 12 years and 5 months old is "12"
    # in everyday speech, and the seed sends "a child of 12 or younger" to a
    # service centre. Reading it as "12 years and a day" would take money online
    # for cases the rule may not cover, which the seed says is the payer's loss.
    return age_on(birth_date, on) > years
