"""The one rule for a person's name, wherever one is typed: registration, HR files, applications.

A name is printed on cards, emails and SMS and read back to the person. Letters of any
script (Arabic with its marks and tatweel, Latin with accents), spaces, hyphens, apostrophes
and dots are kept. Everything else is refused rather than cleaned: bidirectional overrides
(U+202E can make a name read backwards on a card), zero-width characters (two names that look
the same), NUL, ESC, BEL, line breaks, digits and symbols. Refusing names the rule, so the
sender can fix the source instead of us storing something other than what was sent.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from chalicelib.errors import FieldErrors, Text

NAME_MAX_LENGTH = 100
RULE_REQUIRED = "required"
RULE_TOO_LONG = "too_long"
RULE_CHARACTERS = "name_characters"

# Apostrophes as typed on phones and by Excel's autocorrect; hyphens likewise.
_PUNCTUATION = frozenset("'\u2019\u02bc-\u2010\u2011.")


@dataclass(frozen=True)
class NameProblem:
    rule: str
    text: Text


def _allowed(ch: str, also_allowed: str = "") -> bool:
    if ch == " " or ch in _PUNCTUATION or ch in also_allowed:
        return True
    # L*: letters of every script (Arabic tatweel is Lm); M*: Arabic harakat, Latin accents.
    return unicodedata.category(ch)[0] in "LM"


def name_problem(value: object, *, max_length: int = NAME_MAX_LENGTH,
                 also_allowed: str = "") -> tuple[str | None, NameProblem | None]:
    """The name as it will be stored (NFC, single spaces), or why it is refused.

    `also_allowed`: punctuation a source legitimately writes in names beyond the rule's own
    (HR exports write "Family, Given"); never letters' lookalikes or invisible characters.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, NameProblem(RULE_REQUIRED, Text("Enter the full name.", "أدخل الاسم الكامل."))
    if not isinstance(value, str):
        return None, NameProblem(RULE_CHARACTERS, Text("The name must be text.", "يجب أن يكون الاسم نصًا."))
    # Space separators (a no-break space from Excel) are spaces; a tab or line break is refused.
    text = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in unicodedata.normalize("NFC", value))
    name = " ".join(part for part in text.split(" ") if part)
    if len(name) > max_length:
        return None, NameProblem(RULE_TOO_LONG, Text(f"The name is at most {max_length} characters.",
                                                     f"الاسم لا يتجاوز {max_length} حرفًا."))
    bad = next((ch for ch in name if not _allowed(ch, also_allowed)), None)
    if bad is not None:
        where = f"U+{ord(bad):04X}"
        return None, NameProblem(RULE_CHARACTERS, Text(
            f"The name may hold only letters, spaces, hyphens, apostrophes and dots ({where} is not allowed).",
            f"يجب أن يحتوي الاسم على حروف ومسافات وشرطات وفواصل عليا ونقاط فقط (الرمز {where} غير مسموح)."))
    return name, None


def check_person_name(value: object, *, field: str, errors: FieldErrors,
                      max_length: int = NAME_MAX_LENGTH) -> str | None:
    """Add the field's problem to `errors` and return None, or return the clean name."""
    name, problem = name_problem(value, max_length=max_length)
    if problem is not None:
        errors.add(field, problem.rule, problem.text.en, problem.text.ar)
    return name
