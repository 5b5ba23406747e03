"""Counts in words, plural-correct in Arabic and English, by CLDR's plural rules (Babel).

Arabic has six plural categories: zero (0), one (1), two (2), few (3-10, 103-110...),
many (11-99, 111-199...) and other (100-102, 200...). "14 يومًا" is right and "7 يومًا" or
"1 يومًا" wrong, so every count a person reads goes through `plural` with the phrase written
once per category. English needs only one and other. Only the `ar`, `en` and `root` locale
data is loaded (the Lambda zip keeps only those: devstack/slim_package.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.errors import Text

CATEGORIES = ("zero", "one", "two", "few", "many", "other")


@lru_cache(maxsize=4)
def _rule(lang: str) -> Callable[[int], str]:
    # Imported on first use: most requests print no count, and loading a locale costs a few ms.
    from babel import Locale

    return Locale.parse(lang).plural_form


def category(count: int, lang: str) -> str:
    """CLDR's plural category of `count` in `lang` ("ar" or "en")."""
    return _rule("ar" if lang == "ar" else "en")(count)


def plural(count: int, lang: str, forms: Mapping[str, str]) -> str:
    """The phrase of `count`'s category (`other` when a category is not written), `{n}` filled in."""
    unknown = set(forms) - set(CATEGORIES)
    if unknown or "other" not in forms:
        raise ValueError(f"plural forms need 'other' and only CLDR categories, not {sorted(unknown)}")
    return forms.get(category(count, lang), forms["other"]).format(n=count)


@dataclass(frozen=True)
class Counted:
    """A counted noun (or a whole phrase around a count), written per CLDR category in each language."""

    en: Mapping[str, str]
    ar: Mapping[str, str]

    def of(self, count: int) -> Text:
        return Text(plural(count, "en", self.en), plural(count, "ar", self.ar))


# After a number the Arabic noun is dual for 2, plural for 3-10, singular accusative (tanween)
# for 11-99, singular genitive for 100-102; 1 and 2 read best without the digit.
DAYS = Counted(
    en={"one": "{n} day", "other": "{n} days"},
    ar={"zero": "{n} يوم", "one": "يوم واحد", "two": "يومين", "few": "{n} أيام", "many": "{n} يومًا",
        "other": "{n} يوم"},
)
HOURS = Counted(
    en={"one": "{n} hour", "other": "{n} hours"},
    ar={"zero": "{n} ساعة", "one": "ساعة واحدة", "two": "ساعتين", "few": "{n} ساعات", "many": "{n} ساعة",
        "other": "{n} ساعة"},
)
MINUTES = Counted(
    en={"one": "{n} minute", "other": "{n} minutes"},
    ar={"zero": "{n} دقيقة", "one": "دقيقة واحدة", "two": "دقيقتين", "few": "{n} دقائق", "many": "{n} دقيقة",
        "other": "{n} دقيقة"},
)
SECONDS = Counted(
    en={"one": "{n} second", "other": "{n} seconds"},
    ar={"zero": "{n} ثانية", "one": "ثانية واحدة", "two": "ثانيتين", "few": "{n} ثوانٍ", "many": "{n} ثانية",
        "other": "{n} ثانية"},
)
CHARACTERS = Counted(
    en={"one": "{n} character", "other": "{n} characters"},
    ar={"zero": "{n} حرف", "one": "حرف واحد", "two": "حرفين", "few": "{n} أحرف", "many": "{n} حرفًا",
        "other": "{n} حرف"},
)
# As a sentence's subject ("... left"): the Arabic dual is nominative here.
TRIES_LEFT = Counted(
    en={"one": "{n} try left", "other": "{n} tries left"},
    ar={"zero": "لم تتبقَّ أي محاولة", "one": "تبقّت محاولة واحدة", "two": "تبقّت محاولتان",
        "few": "تبقّت {n} محاولات", "many": "تبقّت {n} محاولة", "other": "تبقّت {n} محاولة"},
)


def wait_of(seconds: float) -> Text:
    """How long a person waits, rounded up to what a person would say: seconds under a minute,
    whole minutes up to 90, whole hours beyond (899 s -> 15 minutes; 61 s -> 2 minutes)."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return SECONDS.of(whole)
    minutes = math.ceil(whole / 60)
    if minutes <= 90:
        return MINUTES.of(minutes)
    return HOURS.of(math.ceil(minutes / 60))
