"""Residence health-insurance premiums: categories, effective-dated tariffs, quotes, rules.

The categories and amounts are those of the Kuwait seed (PRODUCT.md). Fees change
by government decision, so a tariff is data with a start date: a quote uses the
tariff in force on the coverage start date, and adding a tariff never changes a
quote already made. Coverage periods are half-open: `Period.end` is the first day
no longer covered, so a renewal starts exactly on the old `end`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

from chalicelib.errors import AppError, FieldErrors, FieldProblem, Text, field_error
from chalicelib.kernel.civil_id import CivilId, check_civil_id, is_older_than
from chalicelib.kernel.money import CURRENCY, ensure_fils, fils_from_kwd
from chalicelib.kernel.names import RULE_REQUIRED, check_person_name, name_problem

DEFAULT_MAX_YEARS = 3
NAME_MAX_LENGTH = 100

KIND_NEW = "new"
KIND_RENEWAL = "renewal"
KINDS = (KIND_NEW, KIND_RENEWAL)


@dataclass(frozen=True)
class Category:
    """A residence category a premium can be paid for online."""

    code: str
    label: Text
    # The insured must be older than this many completed years on the start date.
    min_age_exclusive: int | None = None
    # Everyone but the self-sponsored has a sponsor who is someone else.
    sponsor_must_differ: bool = True


def _category(
    code: str, en: str, ar: str, *, min_age_exclusive: int | None = None, sponsor_must_differ: bool = True
) -> Category:
    return Category(code, Text(en, ar), min_age_exclusive, sponsor_must_differ)


CATEGORIES: tuple[Category, ...] = (
    _category("commercial_residence", "Commercial residence", "إقامة تجارية"),
    _category("government_employee", "Government sector employee", "موظف في القطاع الحكومي"),
    _category("private_sector_employee", "Private sector employee", "موظف في القطاع الخاص"),
    _category("study", "Study residence", "إقامة دراسية"),
    _category(
        "joining_sibling",
        "Family joining: brother or sister of the sponsor",
        "التحاق بعائل: أخ أو أخت الكفيل",
    ),
    _category(
        "joining_parent",
        "Family joining: father or mother of the sponsor",
        "التحاق بعائل: أب أو أم الكفيل",
    ),
    _category(
        "joining_child",
        "Family joining: son or daughter of the sponsor, older than 12",
        "التحاق بعائل: ابن أو ابنة الكفيل، أكبر من 12 سنة",
        min_age_exclusive=12,
    ),
    _category(
        "joining_wife",
        "Husband joining his wife",
        "التحاق زوج بزوجته",
    ),
    _category("domestic_worker", "Domestic worker", "عمالة منزلية"),
    _category(
        "widow_or_divorcee_of_kuwaiti",
        "Widow or divorcee of a Kuwaiti, sponsored by one of her children",
        "أرملة أو مطلقة كويتي على كفالة أحد أبنائها",
    ),
    _category("wife_of_kuwaiti", "Wife of a Kuwaiti citizen", "زوجة مواطن كويتي"),
    _category(
        "joining_gcc_or_kuwaiti_sponsor",
        "Joining a Kuwaiti or GCC citizen sponsor",
        "التحاق بعائل كويتي أو خليجي",
    ),
    _category("self_sponsored", "Self-sponsored", "كفيل نفسه", sponsor_must_differ=False),
    _category("stateless", "Stateless", "غير محدد الجنسية"),
)

CATEGORIES_BY_CODE: Mapping[str, Category] = MappingProxyType({c.code: c for c in CATEGORIES})


@dataclass(frozen=True)
class Tariff:
    """Yearly premiums in fils by category code, in force from `effective_from` on."""

    effective_from: date
    amounts: Mapping[str, int] = field(hash=False)

    def __post_init__(self) -> None:
        for code, fils in self.amounts.items():
            if code not in CATEGORIES_BY_CODE:
                raise ValueError(f"tariff of {self.effective_from}: unknown category {code!r}")
            if ensure_fils(fils) <= 0:
                raise ValueError(f"tariff of {self.effective_from}: {code} must cost > 0 fils")
        # Frozen all the way down: a quote keeps pointing at the tariff it used.
        object.__setattr__(self, "amounts", MappingProxyType(dict(self.amounts)))


_FIFTY = fils_from_kwd(50)
_THIRTY = fils_from_kwd(30)
_FIVE = fils_from_kwd(5)

# The seed's schedule. The seed has no decision date; 2020-01-01 is the first
# day this app quotes for (the seed describes the online-only service of 2020
# on). A later decision is one more Tariff appended here or loaded from data.
DEFAULT_TARIFFS: tuple[Tariff, ...] = (
    Tariff(
        effective_from=date(2020, 1, 1),
        amounts={
            "commercial_residence": _FIFTY,
            "government_employee": _FIFTY,
            "private_sector_employee": _FIFTY,
            "study": _FIFTY,
            "joining_sibling": _FIFTY,
            "joining_parent": _FIFTY,
            "joining_child": _FIFTY,
            "joining_wife": _THIRTY,
            "domestic_worker": _FIVE,
            "widow_or_divorcee_of_kuwaiti": _FIVE,
            "wife_of_kuwaiti": _FIVE,
            "joining_gcc_or_kuwaiti_sponsor": _FIVE,
            "self_sponsored": _FIVE,
            "stateless": _FIVE,
        },
    ),
)


@dataclass(frozen=True)
class Period:
    """Coverage from `start` up to, not including, `end` (the day a renewal starts)."""

    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @classmethod
    def of_years(cls, start: date, years: int) -> Period:
        """`years` whole years of coverage from `start`."""
        return cls(start, add_years(start, years))


@dataclass(frozen=True)
class Quote:
    """The price of `years` years of a category, from the tariff in force at the start."""

    category_code: str
    amount_fils: int
    yearly_fils: int
    years: int
    tariff_effective_from: date
    currency: str = CURRENCY


class NotOfferedOnline(AppError):
    """The case exists but the seed does not offer it online: a service centre handles it."""

    status = 422
    code = "NOT_OFFERED_ONLINE"
    text = Text(
        "This case cannot be insured online. Please visit a health insurance service centre.",
        "لا يمكن تأمين هذه الحالة عبر الإنترنت. يرجى مراجعة أحد مراكز خدمة الضمان الصحي.",
    )


def add_years(start: date, years: int) -> date:
    """The same day `years` later; 29 February moves to 1 March in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        # Only 29 February fails; 1 March keeps a full year covered.
        return date(start.year + years, 3, 1)


def category_by_code(code: object, *, field: str = "category") -> Category:
    """The category with this code, or ValidationFailed naming `field`."""
    errors = FieldErrors()
    category = _check_category(code, field=field, errors=errors)
    errors.raise_if_any()
    assert category is not None
    return category


def tariff_in_force(tariffs: Iterable[Tariff], on: date) -> Tariff:
    """The tariff with the latest `effective_from` not after `on`."""
    in_force = [t for t in tariffs if t.effective_from <= on]
    if not in_force:
        raise field_error(
            "start_date",
            "no_tariff",
            f"No premium schedule is in force on {on.isoformat()}.",
            f"لا يوجد جدول رسوم ساري المفعول بتاريخ {on.isoformat()}.",
        )
    latest = max(t.effective_from for t in in_force)
    chosen = [t for t in in_force if t.effective_from == latest]
    if len(chosen) > 1:
        # Two schedules from one day would make the price depend on list order.
        raise ValueError(f"two tariffs take effect on {latest}")
    return chosen[0]


def quote(
    tariffs: Iterable[Tariff],
    category: Category | str | None,
    start_date: date,
    years: object,
    *,
    max_years: int = DEFAULT_MAX_YEARS,
) -> Quote:
    """The premium for `years` years of `category` starting on `start_date`."""
    errors = FieldErrors()
    cat = category if isinstance(category, Category) else _check_category(category, errors=errors)
    count = _check_years(years, max_years=max_years, errors=errors)
    errors.raise_if_any()
    assert cat is not None and count is not None
    tariff = tariff_in_force(tariffs, start_date)
    yearly = tariff.amounts.get(cat.code)
    if yearly is None:
        raise NotOfferedOnline(
            fields={
                "category": FieldProblem(
                    "not_in_tariff",
                    Text(
                        f"“{cat.label.en}” has no online premium from "
                        f"{tariff.effective_from.isoformat()}; visit a service centre.",
                        f"«{cat.label.ar}» ليس لها رسوم عبر الإنترنت اعتبارًا من "
                        f"{tariff.effective_from.isoformat()}؛ يرجى مراجعة مركز الخدمة.",
                    ),
                )
            }
        )
    return Quote(cat.code, yearly * count, yearly, count, tariff.effective_from)


@dataclass(frozen=True)
class PriceListEntry:
    """A category and its yearly premium under one tariff."""

    category: Category
    yearly_fils: int
    tariff_effective_from: date


def price_list(tariffs: Iterable[Tariff], on: date) -> tuple[PriceListEntry, ...]:
    """Every category offered online on `on`, in display order, with its yearly premium."""
    tariff = tariff_in_force(tariffs, on)
    return tuple(
        PriceListEntry(c, tariff.amounts[c.code], tariff.effective_from)
        for c in CATEGORIES
        if c.code in tariff.amounts
    )


# --- Application rules: pure checks over what the person typed and what exists.


@dataclass(frozen=True)
class ApplicationRequest:
    """A residence-premium application as the person typed it."""

    insured_civil_id: object
    insured_name: object
    category: object
    sponsor_name: object
    sponsor_civil_id: object
    kind: object
    passport_expiry: object
    years: object
    # Optional: the insured's name in Arabic script, printed in the card's Arabic slot.
    insured_name_ar: object = None


@dataclass(frozen=True)
class ApplicationReview:
    """A checked application: every field, the covered period and the price, for review."""

    insured: CivilId
    insured_name: str
    category: Category
    sponsor: CivilId
    sponsor_name: str
    kind: str
    passport_expiry: date
    period: Period
    quote: Quote
    insured_name_ar: str | None = None


def review_application(
    request: ApplicationRequest,
    *,
    today: date,
    existing_policy_end: date | None,
    tariffs: Iterable[Tariff] = DEFAULT_TARIFFS,
    max_years: int = DEFAULT_MAX_YEARS,
) -> ApplicationReview:
    """Check an application against every rule and return its review, or raise naming fields."""
    # existing_policy_end: the (exclusive) end of the insured's latest policy, None if never insured.
    errors = FieldErrors()
    insured = check_civil_id(request.insured_civil_id, today=today, field="insured_civil_id", errors=errors)
    insured_name = _check_name(request.insured_name, field="insured_name", errors=errors)
    insured_name_ar = check_arabic_name(request.insured_name_ar, field="insured_name_ar", errors=errors)
    category = _check_category(request.category, errors=errors)
    kind = _check_kind(request.kind, errors=errors)
    years = _check_years(request.years, max_years=max_years, errors=errors)
    passport_expiry = _check_date(request.passport_expiry, field="passport_expiry", errors=errors)
    sponsor, sponsor_name = _check_sponsor(request, insured, insured_name, category, today, errors)
    start = (
        coverage_start(kind, today=today, existing_policy_end=existing_policy_end, errors=errors)
        if kind
        else None
    )
    errors.raise_if_any()
    assert insured and insured_name and category and kind and years and passport_expiry
    assert sponsor and sponsor_name and start

    period = Period.of_years(start, years)
    # Not offered online trumps a passport problem: renewing the passport would not help.
    check_min_age(category, insured, period.start)
    check_passport_covers(passport_expiry, period, errors=errors)
    errors.raise_if_any()
    return ApplicationReview(
        insured=insured,
        insured_name=insured_name,
        category=category,
        sponsor=sponsor,
        sponsor_name=sponsor_name,
        kind=kind,
        passport_expiry=passport_expiry,
        period=period,
        quote=quote(tariffs, category, period.start, years, max_years=max_years),
        insured_name_ar=insured_name_ar,
    )


def coverage_start(
    kind: str, *, today: date, existing_policy_end: date | None, errors: FieldErrors
) -> date | None:
    """When coverage starts: today for a new policy, the old end for a renewal."""
    if kind == KIND_NEW:
        if existing_policy_end is not None and existing_policy_end > today:
            last = (existing_policy_end - timedelta(days=1)).isoformat()
            errors.add(
                "kind",
                "active_policy",
                f"This person has a policy until {last}: choose renewal instead of new.",
                f"لهذا الشخص وثيقة سارية حتى {last}: اختر التجديد بدلًا من وثيقة جديدة.",
            )
            return None
        return today
    if existing_policy_end is None:
        errors.add(
            "kind",
            "no_policy_to_renew",
            "There is no policy to renew for this civil ID: choose new.",
            "لا توجد وثيقة لتجديدها لهذا الرقم المدني: اختر وثيقة جديدة.",
        )
        return None
    if existing_policy_end < today:
        # Renewing from a past end date would charge for days already gone;
        # a new policy from today is what this person needs.
        last = (existing_policy_end - timedelta(days=1)).isoformat()
        errors.add(
            "kind",
            "policy_lapsed",
            f"The last policy ended on {last}, so it cannot be renewed: choose new.",
            f"انتهت آخر وثيقة في {last} ولا يمكن تجديدها: اختر وثيقة جديدة.",
        )
        return None
    return existing_policy_end


def check_passport_covers(passport_expiry: date, period: Period, *, errors: FieldErrors) -> None:
    """Add an error unless the passport is valid through the last covered day."""
    if passport_expiry < period.last_day:
        errors.add(
            "passport_expiry",
            "before_period_end",
            f"The passport expires on {passport_expiry.isoformat()}, before the insurance "
            f"ends on {period.last_day.isoformat()}. Renew the passport or choose fewer years.",
            f"ينتهي جواز السفر في {passport_expiry.isoformat()} قبل انتهاء التأمين في "
            f"{period.last_day.isoformat()}. جدد الجواز أو اختر عدد سنوات أقل.",
        )


def check_min_age(category: Category, insured: CivilId, on: date) -> None:
    """Raise NotOfferedOnline if the insured is too young for the category on `on`."""
    limit = category.min_age_exclusive
    if limit is None or is_older_than(insured.birth_date, limit, on):
        return
    raise NotOfferedOnline(
        fields={
            "category": FieldProblem(
                "not_offered_online",
                Text(
                    f"A son or daughter aged {limit} or younger on the start date "
                    f"({on.isoformat()}) cannot be insured online. "
                    "Please visit a health insurance service centre.",
                    f"لا يمكن تأمين الابن أو الابنة بعمر {limit} سنة أو أقل في تاريخ البدء "
                    f"({on.isoformat()}) عبر الإنترنت. يرجى مراجعة أحد مراكز خدمة الضمان الصحي.",
                ),
            )
        },
        details={"min_age_exclusive": limit},
    )


def _check_sponsor(
    request: ApplicationRequest,
    insured: CivilId | None,
    insured_name: str | None,
    category: Category | None,
    today: date,
    errors: FieldErrors,
) -> tuple[CivilId | None, str | None]:
    self_sponsored = category is not None and not category.sponsor_must_differ
    raw_id, raw_name = request.sponsor_civil_id, request.sponsor_name
    # A self-sponsored person is their own sponsor: blank fields mean "me".
    if self_sponsored and _blank(raw_id):
        raw_id = insured.number if insured else raw_id
    if self_sponsored and _blank(raw_name):
        raw_name = insured_name or raw_name
    sponsor = check_civil_id(raw_id, today=today, field="sponsor_civil_id", errors=errors)
    sponsor_name = _check_name(raw_name, field="sponsor_name", errors=errors)
    if sponsor is None or insured is None or category is None:
        return sponsor, sponsor_name
    same = sponsor.number == insured.number
    if category.sponsor_must_differ and same:
        errors.add(
            "sponsor_civil_id",
            "same_as_insured",
            "The sponsor must be another person: enter the sponsor's own civil ID.",
            "يجب أن يكون الكفيل شخصًا آخر: أدخل الرقم المدني للكفيل.",
        )
    elif not category.sponsor_must_differ and not same:
        errors.add(
            "sponsor_civil_id",
            "self_sponsored_mismatch",
            "For a self-sponsored residence, the sponsor is the insured person.",
            "في إقامة كفيل نفسه يكون الكفيل هو المؤمن عليه نفسه.",
        )
    return sponsor, sponsor_name


def _check_category(code: object, *, field: str = "category", errors: FieldErrors) -> Category | None:
    category = CATEGORIES_BY_CODE.get(code) if isinstance(code, str) else None
    if category is None:
        errors.add(
            field,
            "unknown" if not _blank(code) else "required",
            "Choose a residence category from the list.",
            "اختر فئة الإقامة من القائمة.",
        )
    return category


def _check_kind(kind: object, *, errors: FieldErrors) -> str | None:
    if kind in KINDS:
        return str(kind)
    errors.add(
        "kind",
        "one_of",
        "Choose whether this is a new insurance or a renewal.",
        "اختر نوع التأمين: جديد أو تجديد.",
    )
    return None


def _check_years(years: object, *, max_years: int, errors: FieldErrors) -> int | None:
    if isinstance(years, int) and not isinstance(years, bool) and 1 <= years <= max_years:
        return years
    errors.add(
        "years",
        "range",
        f"Choose a number of years from 1 to {max_years}.",
        f"اختر عدد السنوات من 1 إلى {max_years}.",
    )
    return None


def _check_date(value: object, *, field: str, errors: FieldErrors) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.add(
        field,
        "date",
        "Enter a date as YYYY-MM-DD.",
        "أدخل التاريخ بالصيغة YYYY-MM-DD.",
    )
    return None


def _check_name(value: object, *, field: str, errors: FieldErrors) -> str | None:
    return check_person_name(value, field=field, errors=errors, max_length=NAME_MAX_LENGTH)


def check_arabic_name(value: object, *, field: str, errors: FieldErrors) -> str | None:
    """An optional name in Arabic script: None when left out, else the clean name or an error naming `field`.

    The one person-name rule (kernel/names.py: length, no control, bidi or zero-width characters)
    and one more: every letter and mark is Arabic. A Latin name here would print on the card's
    Arabic line, which is the mistake this field exists to avoid.
    """
    if _blank(value):
        return None
    name, problem = name_problem(value, max_length=NAME_MAX_LENGTH)
    if problem is not None and problem.rule != RULE_REQUIRED:
        errors.add(field, problem.rule, f"Arabic name: {problem.text.en}", f"الاسم بالعربية: {problem.text.ar}")
        return None
    if name is None:
        return None
    foreign = next((ch for ch in name if unicodedata.category(ch)[0] in "LM" and not _is_arabic(ch)), None)
    if foreign is not None or not any(_is_arabic(ch) for ch in name):
        where = f" (“{foreign}” is not an Arabic letter)" if foreign is not None else ""
        where_ar = f" («{foreign}» ليس حرفًا عربيًا)" if foreign is not None else ""
        errors.add(field, "arabic_script",
                   f"Write the Arabic name in Arabic letters{where}, or leave it out.",
                   f"اكتب الاسم بالعربية بحروف عربية{where_ar}، أو اتركه فارغًا.")
        return None
    return name


def _is_arabic(ch: str) -> bool:
    # Arabic letters, harakat and tatweel are all named "ARABIC ..." in Unicode, whatever their block.
    return unicodedata.name(ch, "").startswith("ARABIC ")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
