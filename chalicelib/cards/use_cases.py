"""E-card use cases: list an account's cards, hand out one card by signed URL, verify a card's QR code.

A card is never stored as "the card of X": it is drawn from what is on record *now*, under
a key derived from everything it prints (and the QR signing key's id). Asking again for an
unchanged card finds the same object and draws nothing; any change to the person (an HR
update, a renewal, a 16th birthday, a key rotation) gives a new key, so the next request
draws the new card. Nothing has to tell the card service that something changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.cards.card import RELATIONSHIP_TEXT, id_note_for
from chalicelib.cards.insured import (
    RESIDENCE_PLAN,
    InsuredPerson,
    card_order,
    claims_for,
)
from chalicelib.cards.payload import CardClaims, public_jwks, sign_payload, verify_payload
from chalicelib.cards.ports import CardDeps, ShcIssuer
from chalicelib.cards.shc import is_shc, revocation_id, sign_card, verify_card_qr
from chalicelib.errors import AppError, NotFound, Text, field_error
from chalicelib.kernel.kuwait_time import kuwait_today
from chalicelib.logs import log_event

FORMATS = ("png", "pdf")
MAX_PAYLOAD_CHARS = 2000  # a version-40 QR holds at most 4,296 alphanumerics; ours are far shorter
# A version-40 QR holds at most 7,089 digits: no shc:/ text (ours or anyone's) is longer.
MAX_SHC_CHARS = 7100


class CardTerminated(AppError):
    """The person's cover was ended: their card is no longer handed out (it still verifies, as terminated)."""

    status = 410
    code = "COVERAGE_TERMINATED"
    text = Text(
        "This person's insurance has ended, so their card is no longer available. "
        "For questions call customer service on 19097.",
        "انتهى تأمين هذا الشخص، لذا لم تعد بطاقته متاحة. للاستفسار اتصل بخدمة العملاء على 19097.",
    )


def list_cards(deps: CardDeps, account_id: str) -> list[dict[str, Any]]:
    """Every person the account covers, with their card's status today, principal first."""
    today = kuwait_today(deps.now())
    people = sorted(deps.people.of_account(account_id), key=card_order)
    return [card_view(person, today) for person in people]


def card_view(person: InsuredPerson, today: date) -> dict[str, Any]:
    """What the app shows for one person before opening the card."""
    status = person.status(today)
    return {
        "member_id": person.member_id,
        "kind": person.kind.value,
        "name": {"en": person.name.en, "ar": person.name.ar},
        "relationship": person.relationship.value,
        "relationship_label": _text(RELATIONSHIP_TEXT[person.relationship]),
        "date_of_birth": person.date_of_birth.isoformat(),
        "policy_number": person.cover.policy_number,
        "plan": {"code": person.plan_code, **_text(person.plan)},
        "network": _text(person.network),
        "valid_from": person.valid_from.isoformat(),
        "valid_to": person.valid_to.isoformat(),
        "status": status.value,
        # The under-16 note printed on a card drawn today (FAQ point 6).
        "id_note": id_note_for(person.date_of_birth, today).value,
        "card_available": not status.ended,
        "formats": [] if status.ended else list(FORMATS),
    }


def card_url(deps: CardDeps, account_id: str, member_id: str, fmt: str | None) -> dict[str, Any]:
    """A signed URL, valid 5 minutes, to the card of someone the account covers (drawn if new)."""
    fmt = (fmt or "png").lower()
    if fmt not in FORMATS:
        raise field_error("format", "one_of", "format must be png or pdf.", "يجب أن تكون الصيغة png أو pdf.")
    person = deps.people.covered(account_id, member_id)
    if person is None:
        # Someone else's member id and one that does not exist get the same answer.
        raise NotFound()
    now = deps.now()
    today = kuwait_today(now)
    status = person.status(today)
    if status.ended:
        raise CardTerminated(details={"member_id": person.member_id, "status": status.value})
    content = person.card_content(today, deps.insurer)
    # One key read for both the object's key and the signature: a rotation in between cannot split them.
    shc = deps.shc if deps.qr_format == "shc" else None
    shc_key = shc.signing_key() if shc is not None else None
    kid, private_key = (shc_key.kid, None) if shc_key is not None else deps.signing_key()
    since = int(person.card_since.timestamp()) if person.card_since is not None else 0
    key = content.object_key(fmt, signing_kid=kid, since=since)
    drawn = False
    if not deps.objects.ready(key, now):
        if shc is not None and shc_key is not None:
            qr_text = sign_card(content, issued_at(person, now), shc_key, shc.iss)
        else:
            assert private_key is not None  # the EC1 key pair read above
            qr_text = sign_payload(claims_for(content, _whole_seconds(now)), private_key, kid)
        deps.objects.put(key, deps.render(content, qr_text, fmt), {"kid": kid, "member": person.member_id})
        drawn = True
    log_event("card_handed_out", member_id=person.member_id, format=fmt, drawn=drawn)
    signed = deps.objects.signed_url(key, now, f"card-{person.member_id}.{fmt}")
    return {
        "member_id": person.member_id,
        "format": fmt,
        "url": signed.url,
        "expires_at": signed.expires_at.astimezone(UTC).isoformat(),
        "expires_in": int((signed.expires_at - now).total_seconds()),
        "status": status.value,
    }


def verification_keys(deps: CardDeps) -> dict[str, list[dict[str, str]]]:
    """The public keys as a JWK set: an offline verifier needs nothing else."""
    return public_jwks(deps.public_keys())


def verify_card(deps: CardDeps, payload: object) -> dict[str, Any]:
    """Whether a QR payload is a card we signed, and the cover's status now.

    The signature is checked before anything is read, so only the holder of a genuine card
    (or a screenshot of one) learns a status, and only for that card's person: a public
    route cannot be used to probe member ids.
    """
    if not isinstance(payload, str) or not payload.strip():
        raise field_error("payload", "required", "payload is required: the text of the card's QR code.",
                          "الحقل payload مطلوب: نص رمز QR في البطاقة.")
    shc = is_shc(payload) and deps.shc is not None
    if len(payload) > (MAX_SHC_CHARS if shc else MAX_PAYLOAD_CHARS):
        raise field_error("payload", "too_long", "payload is longer than any card's QR code.",
                          "الحقل payload أطول من أي رمز بطاقة.")
    if shc:
        assert deps.shc is not None
        return _verify_shc(deps, deps.shc, payload)
    claims = verify_payload(payload, deps.public_key)
    now = deps.now()
    person = deps.people.find(claims.member_id)
    status = person.status(kuwait_today(now)).value if person is not None else "unknown"
    log_event("card_verified", member_id=claims.member_id, status=status, kid=claims.kid)
    return {
        "genuine": True,
        "format": "ec1",
        "status": status,
        # EC1 codes have no revocation id: their person's status says whether the cover ended.
        "revoked": False,
        "card": _claims_view(claims, person),
        # False when the person's printed details changed after this card was drawn
        # (new plan, renewed dates, corrected name): the provider may ask for the new card.
        "matches_current_record": bool(person is not None and person.matches(claims)),
        "checked_at": now.astimezone(UTC).isoformat(),
    }


def _verify_shc(deps: CardDeps, shc: ShcIssuer, payload: str) -> dict[str, Any]:
    """`verify_card` for a SMART Health Card: the JWS checked first, then the record and the key's CRL."""
    card = verify_card_qr(payload, shc.key, shc.iss)
    facts = card.facts
    claims = CardClaims(member_id=facts.member_id, name_en=facts.name.en, name_ar=facts.name.ar,
                        plan=facts.plan_en, valid_from=facts.valid_from, valid_to=facts.valid_to,
                        issued_at=card.issued_at, kid=card.kid)
    now = deps.now()
    person = deps.people.find(facts.member_id)
    status = person.status(kuwait_today(now)).value if person is not None else "unknown"
    revoked = bool(card.rid) and shc.revocations.read(card.kid).revokes(card.rid, int(card.issued_at.timestamp()))
    log_event("card_verified", member_id=facts.member_id, status=status, kid=card.kid, revoked=revoked)
    return {
        "genuine": True,
        "format": "shc",
        "status": status,
        "revoked": revoked,
        "card": {**_claims_view(claims, person), "rid": card.rid},
        "matches_current_record": bool(person is not None and person.matches(claims)),
        "checked_at": now.astimezone(UTC).isoformat(),
    }


def issuer_keys(deps: CardDeps) -> dict[str, list[dict[str, Any]]]:
    """The SMART Health Card issuer's JWK set: each ES256 key with the version of its CRL."""
    shc = _issuer(deps)
    return {"keys": [{**key.public_jwk(), "crlVersion": shc.revocations.read(key.kid).ctr} for key in shc.all_keys()]}


def revocation_list(deps: CardDeps, kid: str) -> dict[str, object]:
    """The Card Revocation List of one of our keys; any other kid is not found."""
    shc = _issuer(deps)
    if shc.key(kid) is None:
        raise NotFound()
    return shc.revocations.read(kid).document()


def revoke_cards(deps: CardDeps, member_ids: Iterable[str] = (), *,
                 issued_before: Mapping[str, datetime] | None = None) -> dict[str, list[str]]:
    """List in the CRLs the cards of these people that no longer hold; one conditional write a key.

    `member_ids`: their cover ended early, so every card drawn so far, stamped with the next second.
    `issued_before`: member id -> the moment their cards stopped holding (HR changed what the card
    prints: it is reissued); cards with an earlier `nbf` second are revoked, the one drawn after holds.
    Every key a card may be signed with gets the rid it would carry under that key: a card drawn
    later (a new cover, cover restored, the reissued card) is not revoked by this, and revoking the
    same people again later moves their stamp forward. Nothing is read about the people (a rid
    depends on the member id alone), so any function may call this with the ids it just changed.
    """
    shc = _issuer(deps)
    until = int(deps.now().timestamp()) + 1
    stamps = {m: until for m in member_ids if m}
    for member_id, moment in (issued_before or {}).items():
        if member_id and member_id not in stamps:
            stamps[member_id] = int(moment.timestamp())
    if stamps:
        for key in shc.all_keys():
            shc.revocations.add(key.kid, [f"{revocation_id(key.rid_key, m)}.{s}" for m, s in stamps.items()])
    log_event("cards_revoked", count=len(stamps))
    if stamps and deps.cards_changed is not None:
        deps.cards_changed(list(stamps))  # their wallet passes change too (voided, or the new details)
    return {"revoked": list(stamps)}


def _issuer(deps: CardDeps) -> ShcIssuer:
    if deps.shc is None:
        raise RuntimeError("SMART Health Cards are not wired (CardDeps.shc)")
    return deps.shc


def _claims_view(claims: CardClaims, person: InsuredPerson | None) -> dict[str, Any]:
    return {
        "member_id": claims.member_id,
        "name": {"en": claims.name_en, "ar": claims.name_ar},
        "plan": _text(plan_of(claims, person)),
        "valid_from": claims.valid_from.isoformat(),
        "valid_to": claims.valid_to.isoformat(),
        "issued_at": claims.issued_at.isoformat(),
        "kid": claims.kid,
    }


def plan_of(claims: CardClaims, person: InsuredPerson | None) -> Text:
    """The signed plan in both languages.

    The QR signs the plan's English name only (its body is fixed by version EC1, and the code must
    stay small). The Arabic is the name on record of that same plan: the person's plan when it is
    still the one signed, the residence plan by its name. A card signed before the person's plan
    changed keeps the signed English and an empty Arabic, never the English twice.
    """
    if person is not None and person.plan.en == claims.plan:
        return person.plan
    if claims.plan == RESIDENCE_PLAN.en:
        return RESIDENCE_PLAN
    return Text(claims.plan, "")


def wallet_card(deps: CardDeps, member_id: str, account_id: str | None = None) -> dict[str, Any] | None:
    """What a wallet pass of this person's card shows, or None for nobody (or not the account's).

    `account_id` None: the wallet web service asks for a pass by its serial number, already
    authorized by the pass's own token. The card's view (as /v1/cards lists it) plus the insurer,
    the ID rule in words, the moment the printed details last changed, and the QR: a SMART Health
    Card of what the card prints, signed now like a card drawn now (none once the cover ended: a
    voided pass shows no code to present).
    """
    person = deps.people.find(member_id) if account_id is None else deps.people.covered(account_id, member_id)
    if person is None:
        return None
    now = deps.now()
    today = kuwait_today(now)
    content = person.card_content(today, deps.insurer)
    view = card_view(person, today)
    qr_text = None
    if not person.status(today).ended:
        shc = _issuer(deps)
        qr_text = sign_card(content, issued_at(person, now), shc.signing_key(), shc.iss)
    return {
        **view,
        "insurer": _text(deps.insurer),
        "id_note_text": _text(content.id_note_text),
        "customer_service": content.customer_service,
        "card_since": person.card_since.astimezone(UTC).isoformat() if person.card_since is not None else None,
        "qr_text": qr_text,
    }


def covered_people(deps: CardDeps, account_id: str) -> list[dict[str, Any]]:
    """The people an account covers, for /v1/me: the card listing's entries."""
    return list_cards(deps, account_id)


def issued_at(person: InsuredPerson, now: datetime) -> datetime:
    """A SMART Health Card's nbf: when what it prints started to hold (the record's `card_since`), not when
    it was drawn. With deterministic signing the card, its PDF and its wallet pass are one identical QR;
    a revocation stamped at a change revokes exactly the cards of the details before it."""
    since = person.card_since
    return _whole_seconds(min(since, now) if since is not None else now)


def _whole_seconds(moment: datetime) -> datetime:
    # The QR carries Unix seconds; dropping the fraction here keeps the claims exact.
    return moment.replace(microsecond=0)


def _text(text: Text) -> dict[str, str]:
    return {"en": text.en, "ar": text.ar}

