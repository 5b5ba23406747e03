"""What a wallet pass of a card says: Apple's pass.json with its two languages, Google's generic object.

Pure values from the card's view (cards.wallet_card): the same member, plan, dates, status and ID rule
as the printed card, its QR the same kind of SMART Health Card. Apple localizes through pass.strings
files inside the pass (`en.lproj`, `ar.lproj`): every label and every value that has two languages is
a key there, so the device shows the pass in its own language. Google takes LocalizedStrings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

STATUS_TEXT = {
    "active": ("Active", "ساري"),
    "upcoming": ("Not started yet", "لم يبدأ بعد"),
    "expired": ("Expired", "منتهي"),
    "terminated": ("Terminated", "ملغى من جهة العمل"),
    "cancelled": ("Cancelled", "ملغى"),
}
LABELS = {
    "member_id": ("Member ID", "رقم العضوية"),
    "name": ("Name", "الاسم"),
    "plan": ("Plan", "الخطة"),
    "status": ("Status", "الحالة"),
    "valid_from": ("Valid from", "ساري من"),
    "valid_to": ("Valid to", "ساري حتى"),
    "policy": ("Policy no.", "رقم الوثيقة"),
    "relationship": ("Relationship", "صلة القرابة"),
    "network": ("Network", "الشبكة"),
    "insurer": ("Insurer", "شركة التأمين"),
    "id_rule": ("Identification", "إثبات الهوية"),
    "customer_service": ("Customer service", "خدمة العملاء"),
    "description": ("Health insurance card", "بطاقة التأمين الصحي"),
    "status_changed": ("Your card is now: %@", "حالة بطاقتك الآن: %@"),
}
KUWAIT = timezone(timedelta(hours=3))  # no daylight saving: a card's days are Kuwait's days
GOOGLE_CLASS_SUFFIX = "health_insurance_card"


@dataclass(frozen=True)
class AppleIdentity:
    """Who signs the pass: Apple's pass type and team, and where devices ask for updates."""

    pass_type_id: str
    team_id: str
    web_service_url: str  # <public base URL>/wallet/apple (Apple appends /v1/...)


@dataclass(frozen=True)
class Colours:
    background: str  # "#rrggbb"
    foreground: str = "#ffffff"
    label: str = "#dbe9ef"


def is_void(card: Mapping[str, Any]) -> bool:
    """A pass of a cover that ended early: Wallet shows it crossed out and offers no code."""
    return card["status"] in ("terminated", "cancelled")


def apple_pass(card: Mapping[str, Any], identity: AppleIdentity, auth_token: str, colours: Colours) -> dict[str, Any]:
    """pass.json: the generic style, every label and two-language value a key of pass.strings."""
    fields = {
        "headerFields": [_field("status", "status_value", change_message="status_changed")],
        "primaryFields": [_field("name", "name_value")],
        "secondaryFields": [_field("member_id", card["member_id"]), _field("plan", "plan_value")],
        "auxiliaryFields": [_date_field("valid_from", card["valid_from"]), _date_field("valid_to", card["valid_to"])],
        "backFields": [
            _field("policy", card["policy_number"]),
            _field("relationship", "relationship_value"),
            _field("network", "network_value"),
            _field("insurer", "insurer_value"),
            _field("id_rule", "id_rule_value"),
            _field("customer_service", card.get("customer_service") or ""),
        ],
    }
    body: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": identity.pass_type_id,
        "teamIdentifier": identity.team_id,
        "serialNumber": card["member_id"],
        "organizationName": card["insurer"]["en"],
        "description": "description",
        "logoText": "insurer_value",
        "backgroundColor": _rgb(colours.background),
        "foregroundColor": _rgb(colours.foreground),
        "labelColor": _rgb(colours.label),
        "webServiceURL": identity.web_service_url,
        "authenticationToken": auth_token,
        # The end of the last covered day in Kuwait: Wallet greys the pass out after it.
        "expirationDate": _kuwait_iso(date.fromisoformat(card["valid_to"]) + timedelta(days=1)),
        "sharingProhibited": True,
        "generic": fields,
    }
    if is_void(card):
        body["voided"] = True
    if card.get("qr_text"):
        body["barcodes"] = [{"format": "PKBarcodeFormatQR", "message": card["qr_text"],
                             "messageEncoding": "iso-8859-1", "altText": card["member_id"]}]
    return body


def apple_strings(card: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """lang -> key -> text: the labels, and the values that read differently in each language."""
    status = STATUS_TEXT.get(card["status"], (card["status"], card["status"]))
    out: dict[str, dict[str, str]] = {}
    for n, lang in enumerate(("en", "ar")):
        strings = {key: pair[n] for key, pair in LABELS.items()}
        strings.update({
            "status_value": status[n],
            # The Arabic slot may be empty (HR gave no Arabic name): the other script, never nothing.
            "name_value": card["name"][lang] or card["name"]["en" if lang == "ar" else "ar"],
            "plan_value": card["plan"][lang] or card["plan"]["en"],
            "relationship_value": card["relationship_label"][lang],
            "network_value": card["network"][lang] or card["network"]["en"],
            "insurer_value": card["insurer"][lang],
            "id_rule_value": card["id_note_text"][lang],
        })
        out[lang] = strings
    return out


def strings_file(strings: Mapping[str, str]) -> bytes:
    """A .strings file ("key" = "value"; per line), UTF-8, quotes, backslashes and newlines escaped."""

    def quoted(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
        return f'"{escaped}"'

    return "".join(f"{quoted(k)} = {quoted(v)};\n" for k, v in strings.items()).encode("utf-8")


def google_object(card: Mapping[str, Any], issuer_id: str, colours: Colours) -> dict[str, Any]:
    """The pass as a Google Wallet generic object (a health insurance card goes as a private pass)."""
    status = STATUS_TEXT.get(card["status"], (card["status"], card["status"]))

    def localized(en: str, ar: str) -> dict[str, Any]:
        return {"defaultValue": {"language": "en", "value": en or ar},
                "translatedValues": [{"language": "ar", "value": ar or en}]}

    def module(key: str, en: str, ar: str | None = None) -> dict[str, Any]:
        label = LABELS[key]
        return {"id": key, "header": label[0], "body": en, "localizedHeader": localized(*label),
                "localizedBody": localized(en, en if ar is None else ar)}

    body: dict[str, Any] = {
        "id": google_object_id(issuer_id, card["member_id"]),
        "classId": f"{issuer_id}.{GOOGLE_CLASS_SUFFIX}",
        "genericType": "GENERIC_TYPE_UNSPECIFIED",
        "cardTitle": localized(card["insurer"]["en"], card["insurer"]["ar"]),
        "header": localized(card["name"]["en"], card["name"]["ar"]),
        "subheader": localized(*LABELS["description"]),
        "hexBackgroundColor": colours.background,
        "state": google_state(card),
        "validTimeInterval": {"start": {"date": _kuwait_iso(date.fromisoformat(card["valid_from"]))},
                              "end": {"date": _kuwait_iso(date.fromisoformat(card["valid_to"]) + timedelta(days=1))}},
        "textModulesData": [
            module("member_id", card["member_id"]),
            module("status", *status),
            module("plan", card["plan"]["en"], card["plan"]["ar"]),
            module("valid_from", card["valid_from"]),
            module("valid_to", card["valid_to"]),
            module("policy", card["policy_number"]),
            module("id_rule", card["id_note_text"]["en"], card["id_note_text"]["ar"]),
        ],
    }
    if card.get("qr_text") and not is_void(card):
        body["barcode"] = {"type": "QR_CODE", "value": card["qr_text"], "alternateText": card["member_id"]}
    return body


def google_class(issuer_id: str, insurer: Any) -> dict[str, Any]:
    """The generic class every card's object names (sent in the save JWT: created on first save)."""
    return {"id": f"{issuer_id}.{GOOGLE_CLASS_SUFFIX}", "issuerName": insurer["en"],
            "localizedIssuerName": {"defaultValue": {"language": "en", "value": insurer["en"]},
                                    "translatedValues": [{"language": "ar", "value": insurer["ar"]}]}}


def google_object_id(issuer_id: str, member_id: str) -> str:
    """<issuer id>.<member id>: member ids are letters, digits and hyphens, which object ids allow."""
    return f"{issuer_id}.{member_id}"


def google_state(card: Mapping[str, Any]) -> str:
    if is_void(card):
        return "INACTIVE"
    return "EXPIRED" if card["status"] == "expired" else "ACTIVE"


def _field(key: str, value: str, *, change_message: str | None = None) -> dict[str, Any]:
    field: dict[str, Any] = {"key": key, "label": key, "value": value}
    if change_message:
        field["changeMessage"] = change_message
    return field


def _date_field(key: str, day: str) -> dict[str, Any]:
    # A day, not a moment: Wallet formats it in the device's language and must not shift it by time zone.
    return {"key": key, "label": key, "value": _kuwait_iso(date.fromisoformat(day)),
            "dateStyle": "PKDateStyleMedium", "timeStyle": "PKDateStyleNone", "ignoresTimeZone": True}


def _kuwait_iso(day: date) -> str:
    return datetime.combine(day, time(0, 0), KUWAIT).isoformat()


def _rgb(colour: str) -> str:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"
