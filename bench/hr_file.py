"""A generated HR enrolment file for the benchmark: families of principals and dependents."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from chalicelib.kernel.civil_id import compose_civil_id

# English and Arabic spellings of the same names, so the Arabic column is real Arabic.
MALE_NAMES = (
    ("Ahmad", "أحمد"),
    ("Mohammed", "محمد"),
    ("Khalid", "خالد"),
    ("Abdullah", "عبدالله"),
    ("Yousef", "يوسف"),
    ("Fahad", "فهد"),
    ("Saad", "سعد"),
    ("Nasser", "ناصر"),
    ("Ibrahim", "إبراهيم"),
    ("Omar", "عمر"),
    ("Ali", "علي"),
    ("Hamad", "حمد"),
    ("Sulaiman", "سليمان"),
    ("Bader", "بدر"),
    ("Mishari", "مشاري"),
    ("Rajesh", "راجيش"),
    ("Jose", "خوسيه"),
    ("Mahmoud", "محمود"),
    ("Tariq", "طارق"),
    ("Hussain", "حسين"),
)
FEMALE_NAMES = (
    ("Fatima", "فاطمة"),
    ("Noura", "نورة"),
    ("Maryam", "مريم"),
    ("Sara", "سارة"),
    ("Hessa", "حصة"),
    ("Moudhi", "موضي"),
    ("Layla", "ليلى"),
    ("Aisha", "عائشة"),
    ("Dana", "دانة"),
    ("Shaikha", "شيخة"),
    ("Reem", "ريم"),
    ("Priya", "بريا"),
    ("Maria", "ماريا"),
    ("Amal", "أمل"),
    ("Huda", "هدى"),
    ("Zainab", "زينب"),
)
FAMILY_NAMES = (
    ("Al-Mutairi", "المطيري"),
    ("Al-Enezi", "العنزي"),
    ("Al-Shammari", "الشمري"),
    ("Al-Kandari", "الكندري"),
    ("Al-Rashidi", "الرشيدي"),
    ("Al-Ajmi", "العجمي"),
    ("Al-Hajri", "الهاجري"),
    ("Al-Azmi", "العازمي"),
    ("Al-Otaibi", "العتيبي"),
    ("Kumar", "كومار"),
    ("Santos", "سانتوس"),
    ("Hassan", "حسن"),
    ("Abdelrahman", "عبدالرحمن"),
)
HEADER = (
    "Employee No",
    " Relationship ",
    "Plan",
    "Name EN",
    "name_ar",
    "Date Of Birth",
    "GENDER",
    " Email ",
    "Mobile",
    "National ID",
    "Coverage Start",
    "Coverage End",
    "Action",
    "Department",
)
DEPARTMENTS = ("Finance", "HR", "IT", "Sales", "Operations", "Legal, Compliance")


@dataclass(frozen=True)
class GeneratedHrFile:
    path: Path
    policy_no: str
    plans: tuple[str, ...]
    rows: int
    principals: int
    # Principals enrolled, not terminated: on a first enrolment each gets an invited account and
    # one welcome email (a terminated principal is recorded with no account and no welcome).
    new_principals: int


def generate_hr_csv(
    path: str | Path,
    rows: int = 50_000,
    policy_no: str = "GP-BENCH-2026",
    seed: int = 2026,
    plans: tuple[str, ...] = ("GOLD", "SILVER"),
) -> GeneratedHrFile:
    """Write an HR file of `rows` rows (UTF-8 BOM, CRLF, families of 1-5 people), streaming."""
    rng = random.Random(seed)
    path = Path(path)
    domain = policy_no.lower().removeprefix("gp-").split("-")[0] + ".example"
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    serial = 0
    principals = written = terminated = 0

    def civil_id(born: date) -> str:
        nonlocal serial
        while True:
            serial += 1
            try:
                return compose_civil_id(born, f"{serial % 10_000:04d}")
            except ValueError:  # one serial in eleven has no check digit
                continue

    def birth(lo: int, hi: int) -> date:
        return date(2026, 1, 1) - timedelta(days=rng.randint(lo * 365, hi * 365))

    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)  # CRLF by default, as Excel writes
        writer.writerow(HEADER)
        while written < rows:
            principals += 1
            employee_no = f"E{100000 + principals}"
            plan = rng.choice(plans)
            male = rng.random() < 0.7
            first_en, first_ar = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
            father_en, father_ar = rng.choice(MALE_NAMES)
            family_en, family_ar = rng.choice(FAMILY_NAMES)
            born = birth(22, 60)
            people = [
                (
                    "principal",
                    f"{first_en} {father_en} {family_en}",
                    f"{first_ar} {father_ar} {family_ar}",
                    born,
                    "male" if male else "female",
                    f"{first_en}.{family_en}.{employee_no}@{domain}".lower(),
                    f"+965 {rng.choice('569')}{rng.randint(0, 9_999_999):07d}",
                )
            ]
            dependents = rng.choices((0, 1, 2, 3, 4), weights=(30, 25, 20, 15, 10))[0]
            for i in range(dependents):
                if i == 0:
                    kind, is_male, age = "spouse", not male, (20, 55)
                elif i == 3 and rng.random() < 0.5:
                    kind, is_male, age = "parent", rng.random() < 0.5, (55, 85)
                else:
                    kind, is_male, age = "child", rng.random() < 0.5, (0, 22)
                given_en, given_ar = rng.choice(MALE_NAMES if is_male else FEMALE_NAMES)
                if kind == "child":
                    name = (f"{given_en} {first_en} {family_en}", f"{given_ar} {first_ar} {family_ar}")
                else:
                    name = (f"{given_en} {family_en}", f"{given_ar} {family_ar}")
                people.append((kind, *name, birth(*age), "male" if is_male else "female", "", ""))
            department = rng.choice(DEPARTMENTS)
            for kind, name_en, name_ar, dob, gender, email, mobile in people:
                if written == rows:
                    break
                # Roughly one newborn in fifty has no civil ID yet.
                national_id = "" if kind == "child" and rng.random() < 0.02 else civil_id(dob)
                action = "terminate" if kind == "principal" and rng.random() < 0.01 else ""
                terminated += action == "terminate"
                writer.writerow(
                    (
                        employee_no,
                        kind,
                        plan,
                        name_en,
                        name_ar,
                        dob.isoformat(),
                        gender,
                        email,
                        mobile,
                        national_id,
                        start.isoformat(),
                        end.isoformat(),
                        action,
                        department,
                    )
                )
                written += 1
    return GeneratedHrFile(path, policy_no, plans, written, principals, principals - terminated)
