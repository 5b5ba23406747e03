"""Wallet use cases: a card as an Apple Wallet pass or a Google Wallet link, Apple's pass web service,
and a card's change reaching the passes (APNs pushes, Google's object updated).

Only the account that covers a person gets their pass (404 otherwise, as for the card). The web
service Apple devices call is public: each pass carries its own authenticationToken (an HMAC of its
serial number, the member id), the only key to its registrations and to its latest version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from chalicelib.errors import AppError, NotFound, Text, field_error
from chalicelib.logs import log_error, log_event
from chalicelib.wallet.apns import pass_update_push, provider_token
from chalicelib.wallet.google_api import SAVE_URL, access_token, patch_object, save_jwt
from chalicelib.wallet.passes import (
    AppleIdentity,
    Colours,
    apple_pass,
    apple_strings,
    google_class,
    google_object,
    google_object_id,
    strings_file,
)
from chalicelib.wallet.ports import WalletDeps, WalletUnavailable

PKPASS = "application/vnd.apple.pkpass"
# Apple's identifiers are short tokens; anything else is refused before any read.
_DEVICE = re.compile(r"[A-Za-z0-9]{1,64}")
_PASS_TYPE = re.compile(r"pass(\.[A-Za-z0-9-]{1,60}){1,8}")
_SERIAL = re.compile(r"[A-Za-z0-9-]{1,40}")
_PUSH_TOKEN = re.compile(r"[0-9A-Fa-f]{32,200}")
_TAG = re.compile(r"[0-9]{1,12}")
MAX_LOG_LINES = 50


class NotThisPass(AppError):
    """Apple's answer to a request without the pass's token: 401, nothing said about the pass."""

    status = 401
    code = "UNAUTHORIZED"
    text = Text("This pass's authorization is missing or wrong.", "تفويض هذه البطاقة مفقود أو غير صحيح.")


def apple_pass_file(deps: WalletDeps, account_id: str, member_id: str) -> bytes:
    """The signed .pkpass of the card of someone the account covers."""
    card = deps.card(member_id, account_id)
    if card is None:
        raise NotFound()  # someone else's member id and one that does not exist get the same answer
    config = deps.apple()
    if config is None:
        raise WalletUnavailable()
    log_event("wallet_pass_issued", member_id=member_id, wallet="apple", status=card["status"])
    return _pkpass(deps, card, config)


def google_save_link(deps: WalletDeps, account_id: str, member_id: str) -> dict[str, Any]:
    """The "Save to Google Wallet" link of the card of someone the account covers."""
    card = deps.card(member_id, account_id)
    if card is None:
        raise NotFound()
    config = deps.google()
    if config is None:
        raise WalletUnavailable()
    colours = Colours(deps.brand_colour)
    token = save_jwt(config, [deps.public_base_url], [google_object(card, config.issuer_id, colours)],
                     [google_class(config.issuer_id, card["insurer"])], deps.now().timestamp())
    deps.store.mark_google(member_id)  # from now on a change of this card updates Google's object
    log_event("wallet_pass_issued", member_id=member_id, wallet="google", status=card["status"])
    return {"member_id": member_id, "status": card["status"], "url": SAVE_URL + token}


# --- Apple's pass web service (webServiceURL + /v1/...) ---------------------------------------------

def register_device(deps: WalletDeps, device: str, pass_type: str, serial: str, authorization: str | None,
                    body: object) -> int:
    """A device asks for updates of a pass: 201 when new, 200 when it already was."""
    _check_ids(device=device, pass_type=pass_type, serial=serial)
    config = _authorized(deps, pass_type, serial, authorization)
    push_token = body.get("pushToken") if isinstance(body, dict) else None
    if not isinstance(push_token, str) or not _PUSH_TOKEN.fullmatch(push_token):
        raise field_error("pushToken", "format", "pushToken must be the device's push token (hexadecimal).",
                          "يجب أن يكون pushToken رمز الإشعارات للجهاز (ست عشري).")
    created = deps.store.register(device, config.pass_type_id, serial, push_token, deps.now())
    log_event("wallet_device_registered", member_id=serial, new=created)
    return 201 if created else 200


def unregister_device(deps: WalletDeps, device: str, pass_type: str, serial: str,
                      authorization: str | None) -> None:
    """The pass was removed from a device: no more pushes to it."""
    _check_ids(device=device, pass_type=pass_type, serial=serial)
    _authorized(deps, pass_type, serial, authorization)
    removed = deps.store.unregister(device, serial)
    log_event("wallet_device_unregistered", member_id=serial, was_registered=removed)


def updated_passes(deps: WalletDeps, device: str, pass_type: str, since: str | None) -> dict[str, Any] | None:
    """The device's passes changed after the tag it last got (None: nothing changed, Apple's 204)."""
    _check_ids(device=device, pass_type=pass_type)
    config = _config(deps)
    if pass_type != config.pass_type_id:
        return None
    if since is not None and not _TAG.fullmatch(since):
        raise field_error("passesUpdatedSince", "format", "passesUpdatedSince must be a tag this service gave.",
                          "يجب أن يكون passesUpdatedSince وسمًا أعطته هذه الخدمة.")
    serials = deps.store.serials_of(device, pass_type)
    tags = deps.store.updated_at(serials)
    after = int(since) if since is not None else -1
    changed = sorted(s for s in serials if tags.get(s, 0) > after)
    if not changed:
        return None
    return {"serialNumbers": changed, "lastUpdated": str(max(tags.get(s, 0) for s in changed))}


def latest_pass(deps: WalletDeps, pass_type: str, serial: str, authorization: str | None,
                if_modified_since: str | None) -> tuple[bytes | None, str]:
    """The pass as it is now, and its Last-Modified; (None, Last-Modified) when not changed since."""
    _check_ids(pass_type=pass_type, serial=serial)
    config = _authorized(deps, pass_type, serial, authorization)
    card = deps.card(serial, None)
    if card is None:
        raise NotFound()
    modified = _last_modified(deps, serial, card)
    header = format_datetime(datetime.fromtimestamp(modified, UTC), usegmt=True)
    since = _http_date(if_modified_since)
    if since is not None and modified <= since:
        return None, header
    return _pkpass(deps, card, config), header


def device_log(body: object) -> int:
    """Apple's devices report problems with the web service here: logged (counted, bounded), never stored."""
    logs = body.get("logs") if isinstance(body, dict) else None
    lines = [line for line in logs if isinstance(line, str)] if isinstance(logs, list) else []
    for line in lines[:MAX_LOG_LINES]:
        # Apple's messages name the web service URL and HTTP statuses: no personal data, but bounded.
        log_event("wallet_device_log", message=line[:300])
    return len(lines)


# --- a card changed ----------------------------------------------------------------------------------

def passes_changed(deps: WalletDeps, member_ids: Sequence[str], at: datetime) -> dict[str, int]:
    """The cards of `member_ids` changed at `at`: their passes get a new update tag, each registered
    device a push (a device APNs says no longer has the pass is forgotten), each Google object saved
    its new state. A failure is logged per pass and never stops the others."""
    serials = deps.store.with_holders([m for m in member_ids if m])  # nobody else has a pass to update
    deps.store.touch(serials, int(at.timestamp()))
    counts = {"pushed": 0, "forgotten": 0, "failed": 0, "google": 0}
    apple = deps.apple()
    if apple is not None and apple.apns_key is not None:
        provider = provider_token(apple.team_id, apple.apns_key_id, apple.apns_key, at.timestamp())
        for serial in serials:
            for registration in deps.store.devices_of(serial):
                try:
                    status = deps.push(pass_update_push(registration.push_token, apple.pass_type_id, provider))
                except OSError as error:
                    status = 0
                    log_error("wallet_push_failed", member_id=serial, error=type(error).__name__)
                if status == 200:
                    counts["pushed"] += 1
                elif status == 410:  # Unregistered: the device deleted the pass
                    deps.store.unregister(registration.device, serial)
                    counts["forgotten"] += 1
                else:
                    counts["failed"] += 1
                    log_error("wallet_push_refused", member_id=serial, status=status)
    google = deps.google()
    saved = deps.store.google_saved(serials) if google is not None else set()
    if google is not None and saved:
        token = access_token(google, deps.http, at.timestamp())
        for serial in sorted(saved):
            card = deps.card(serial, None)
            if card is None:
                continue
            counts["google"] += _update_google(deps, google, card, token)
    log_event("wallet_passes_changed", passes=len(serials), **counts)
    return counts


def _update_google(deps: WalletDeps, config: Any, card: Mapping[str, Any], token: str) -> int:
    whole = google_object(card, config.issuer_id, Colours(deps.brand_colour))
    changes: dict[str, Any] = {k: whole[k] for k in ("state", "header", "validTimeInterval", "textModulesData")}
    # A voided card shows no code; a reissued one shows the new code.
    changes["barcode"] = whole.get("barcode") or {"type": "QR_CODE", "value": "", "alternateText": card["member_id"]}
    status, _ = deps.http(patch_object(google_object_id(config.issuer_id, card["member_id"]), changes, token))
    if status == 404:
        return 0  # the link was handed out, never used: no object to update
    if status != 200:
        log_error("wallet_google_update_failed", member_id=card["member_id"], status=status)
        return 0
    return 1


# --- shared ------------------------------------------------------------------------------------------

def _pkpass(deps: WalletDeps, card: Mapping[str, Any], config: Any) -> bytes:
    identity = AppleIdentity(config.pass_type_id, config.team_id, f"{deps.public_base_url}/wallet/apple")
    body = apple_pass(card, identity, deps.pass_token(card["member_id"]), Colours(deps.brand_colour))
    assets = dict(deps.images(deps.brand_colour))
    for lang, strings in apple_strings(card).items():
        assets[f"{lang}.lproj/pass.strings"] = strings_file(strings)
    return deps.sign(body, assets, config.signer)


def _config(deps: WalletDeps) -> Any:
    config = deps.apple()
    if config is None:
        raise WalletUnavailable()
    return config


def _authorized(deps: WalletDeps, pass_type: str, serial: str, authorization: str | None) -> Any:
    """The Apple config, once the request carries this pass's token ("ApplePass <token>"); 401 otherwise."""
    config = _config(deps)
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "ApplePass" or not token or pass_type != config.pass_type_id \
            or not deps.token_matches(serial, token.strip()):
        raise NotThisPass()
    return config


def _last_modified(deps: WalletDeps, serial: str, card: Mapping[str, Any]) -> int:
    """The pass's last change: its update tag, or when the card's printed details last changed."""
    tag = deps.store.updated_at([serial]).get(serial, 0)
    since = card.get("card_since")
    printed = int(datetime.fromisoformat(since).timestamp()) if isinstance(since, str) else 0
    return max(tag, printed)


def _http_date(value: str | None) -> int | None:
    if not value or len(value) > 64:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None  # a date we can't read: answer the whole pass
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _check_ids(*, device: str | None = None, pass_type: str | None = None, serial: str | None = None) -> None:
    # Not an identifier this service ever gave or accepts: nothing is there (read nothing, say 404).
    for value, pattern in ((device, _DEVICE), (pass_type, _PASS_TYPE), (serial, _SERIAL)):
        if value is not None and not pattern.fullmatch(value):
            raise NotFound()
