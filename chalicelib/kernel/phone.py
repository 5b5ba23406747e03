"""Kuwait mobile numbers, accepted in the forms people type and stored as E.164.

Kuwait numbers have 8 digits after +965 and no trunk prefix. Which ranges are
mobile, from Google's libphonenumber metadata for KW (PhoneNumberMetadata.xml,
as generated into libphonenumber-for-php-lite and dlibphonenumber in 2024-25):
- 5xxxxxxx, 6xxxxxxx, 9xxxxxxx: the mobile blocks of the three operators
  (numbers are portable between operators, so the block says nothing more);
- 41xxxxxx: a new mobile block, in the metadata since 2024; the rest of 4 is
  not allocated, so 40 and 42-49 are refused;
- 2xxxxxxx is fixed line and 18xxxxx toll free: neither can receive the SMS code.
We accept whole blocks rather than libphonenumber's sub-ranges: operators open
new sub-ranges often and a refused real number blocks registration, while a
wrong number only fails to receive its code.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import FieldErrors
from chalicelib.kernel.civil_id import ascii_digits

COUNTRY_CODE = "965"
NATIONAL_LENGTH = 8
MOBILE_PREFIXES = ("41", "5", "6", "9")

_SEPARATORS = " -.()\u00a0\t"


@dataclass(frozen=True, repr=False)
class KuwaitMobile:
    """A Kuwait mobile number in E.164 form (+965 and 8 digits)."""

    e164: str

    @property
    def national(self) -> str:
        return self.e164[-NATIONAL_LENGTH:]

    def masked(self) -> str:
        """The number fit for logs: country code and last 3 digits only."""
        return f"+{COUNTRY_CODE}*****{self.national[-3:]}"

    def __str__(self) -> str:
        return self.e164

    def __repr__(self) -> str:
        return f"KuwaitMobile({self.masked()!r})"


def parse_kuwait_mobile(raw: object, *, field: str = "phone") -> KuwaitMobile:
    """Check a mobile number typed by a person, or raise ValidationFailed naming `field`."""
    errors = FieldErrors()
    mobile = check_kuwait_mobile(raw, field=field, errors=errors)
    errors.raise_if_any()
    assert mobile is not None
    return mobile


def is_kuwait_mobile(raw: object) -> bool:
    """Whether `raw` is a Kuwait mobile number in a form we accept."""
    return check_kuwait_mobile(raw, field="phone", errors=FieldErrors()) is not None


def check_kuwait_mobile(raw: object, *, field: str, errors: FieldErrors) -> KuwaitMobile | None:
    """Like parse_kuwait_mobile, but add the problem to `errors` and return None."""

    def fail(rule: str, en: str, ar: str) -> None:
        errors.add(field, rule, en, ar)

    if not isinstance(raw, str) or not raw.strip():
        fail("required", "Enter a mobile number.", "أدخل رقم الهاتف المحمول.")
        return None
    text = ascii_digits("".join(ch for ch in raw if ch not in _SEPARATORS))
    international = False
    if text.startswith("+"):
        text, international = text[1:], True
    elif text.startswith("00"):
        text, international = text[2:], True
    if not text.isascii() or not text.isdecimal():
        fail(
            "digits_only",
            "A mobile number has digits only, with an optional + at the start.",
            "يتكون رقم الهاتف من أرقام فقط، مع علامة + اختيارية في البداية.",
        )
        return None
    # "965" + 8 digits without + or 00 is 11 digits, which no local number is.
    if international or len(text) == len(COUNTRY_CODE) + NATIONAL_LENGTH:
        if not text.startswith(COUNTRY_CODE):
            fail(
                "country",
                "Enter a Kuwait mobile number (+965): it receives the verification code by SMS.",
                "أدخل رقم هاتف محمول كويتي (+965) لاستلام رمز التحقق برسالة نصية.",
            )
            return None
        text = text[len(COUNTRY_CODE) :]
    if len(text) != NATIONAL_LENGTH:
        fail(
            "length",
            "A Kuwait mobile number has 8 digits after +965.",
            "يتكون رقم الهاتف المحمول الكويتي من 8 أرقام بعد +965.",
        )
        return None
    if not text.startswith(MOBILE_PREFIXES):
        fail(
            "not_mobile",
            "This is not a mobile number (mobile numbers start with 41, 5, 6 or 9); "
            "landlines cannot receive the SMS code.",
            "هذا ليس رقم هاتف محمول (تبدأ أرقام المحمول بـ 41 أو 5 أو 6 أو 9)؛ "
            "الهاتف الأرضي لا يستقبل الرسائل النصية.",
        )
        return None
    return KuwaitMobile(f"+{COUNTRY_CODE}{text}")
