"""Self-registration of residents: civil ID and phone, an SMS code, then a temporary password by SMS."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from chalicelib.accounts.credentials import schedule_password_job
from chalicelib.accounts.errors import CodeProblem, RegistrationExpired, UsernameTaken
from chalicelib.accounts.ports import AuthDeps
from chalicelib.accounts.rules import check_registration
from chalicelib.accounts.tokens import code_hash, new_code, new_token, same, temporary_password, token_hash
from chalicelib.accounts.values import Account, Token, TokenData
from chalicelib.errors import Text, TooManyRequests
from chalicelib.kernel.plurals import TRIES_LEFT, wait_of
from chalicelib.logs import log_event
from chalicelib.platform import messages


def start_registration(deps: AuthDeps, body: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """Check the fields and send a 6-digit code; the registration id is the handle.

    Taken and free civil IDs and emails get the same answer, the same work and the same SMS:
    whether an account exists shows only after the code proves the phone (verify_registration).
    """
    now = deps.now()
    reg = check_registration(body, now.date())
    _rate_limit(deps, reg.phone, reg.civil_id, source, now)
    life = deps.settings.lifetimes
    registration_id = new_token()
    hashed = token_hash(registration_id)
    code = new_code()
    deps.store.put_token(
        hashed, kind="registration", expires_at=now + timedelta(seconds=life.registration_s),
        data=TokenData(civil_id=reg.civil_id, name=reg.name, phone=reg.phone, email=reg.email,
                       gender=reg.gender, language=reg.language, city=reg.city,
                       code_hash=code_hash(deps.hmac_keys()[0], hashed, code),
                       code_expires_at=now + timedelta(seconds=life.sms_code_s), sent_at=[now]),
    )
    deps.send(messages.registration_code_sms(reg.phone, reg.language, code, life.sms_code_s // 60))
    log_event("registration_started")
    return {"registration_id": registration_id, "code_expires_in": life.sms_code_s,
            "resend_after": deps.settings.limits.resend_cooldown_s}


def _rate_limit(deps: AuthDeps, phone: str, civil_id: str, source: str | None, now: datetime) -> None:
    """Registrations an hour per phone, per civil ID and per source address (each SMS costs money)."""
    limits, hour = deps.settings.limits, timedelta(hours=1)
    checks = [(f"register:phone:{token_hash(phone)}", limits.register_per_phone_hour),
              (f"register:civil_id:{token_hash(civil_id)}", limits.register_per_civil_id_hour)]
    if source:
        checks.append((f"register:source:{token_hash(source)}", limits.register_per_source_hour))
    for key, limit in checks:
        if deps.store.hit(key, hour, now) > limit:
            log_event("registration_throttled", limit=key.split(":")[1])
            raise TooManyRequests(Text("Too many registrations. Try again in an hour.",
                                       "محاولات تسجيل كثيرة. حاول بعد ساعة."),
                                  code="REGISTRATION_LIMIT", headers={"Retry-After": "3600"})


def _live_registration(deps: AuthDeps, registration_id: str) -> tuple[Token, TokenData]:
    record = deps.store.token(token_hash(str(registration_id or "")))
    if record is None or record.kind != "registration" or record.used_at or record.expires_at <= deps.now() \
            or record.data is None:
        raise RegistrationExpired()
    return record, record.data


def resend_code(deps: AuthDeps, registration_id: str) -> dict[str, Any]:
    """A new code, at most one per cooldown and a few an hour."""
    now = deps.now()
    limits, life = deps.settings.limits, deps.settings.lifetimes
    record, data = _live_registration(deps, registration_id)
    sent = [t for t in data.sent_at if t > now - timedelta(hours=1)]
    if sent and now < max(sent) + timedelta(seconds=limits.resend_cooldown_s):
        wait = int((max(sent) + timedelta(seconds=limits.resend_cooldown_s) - now).total_seconds()) + 1
        words = wait_of(wait)
        raise TooManyRequests(Text(f"Wait {words.en} before asking for a new code.",
                                   f"انتظر {words.ar} قبل طلب رمز جديد."),
                              code="RESEND_TOO_SOON", headers={"Retry-After": str(wait)})
    if len(sent) >= limits.resend_per_hour:
        wait = int((min(sent) + timedelta(hours=1) - now).total_seconds()) + 1
        raise TooManyRequests(Text("Too many codes this hour. Try again later.",
                                   "طلبت رموزًا كثيرة خلال هذه الساعة. حاول لاحقًا."),
                              code="RESEND_LIMIT", headers={"Retry-After": str(wait)})
    code = new_code()
    data.code_hash = code_hash(deps.hmac_keys()[0], record.token_hash, code)
    data.code_expires_at = now + timedelta(seconds=life.sms_code_s)
    data.sent_at = [*sent, now]
    record.attempts = 0  # a new code gets its own tries; the hourly cap bounds the guesses
    deps.store.save_token(record)  # conditional on the version read
    assert data.phone and data.language  # checked when the registration started
    deps.send(messages.registration_code_sms(data.phone, data.language, code, life.sms_code_s // 60))
    return {"code_expires_in": life.sms_code_s, "resend_after": limits.resend_cooldown_s}


def verify_registration(deps: AuthDeps, registration_id: str, code: str) -> dict[str, Any]:
    """The right code creates the account (username: the civil ID) and texts a temporary password."""
    now = deps.now()
    limits, life = deps.settings.limits, deps.settings.lifetimes
    record, data = _live_registration(deps, registration_id)
    if record.attempts >= limits.sms_code_tries:
        raise CodeProblem(Text("Too many wrong codes. Ask for a new code.", "رموز خاطئة كثيرة. اطلب رمزًا جديدًا."),
                          code="CODE_LOCKED")
    if data.code_expires_at is None or data.code_expires_at <= now:
        raise CodeProblem(Text("The code has expired. Ask for a new code.", "انتهت صلاحية الرمز. اطلب رمزًا جديدًا."),
                          code="CODE_EXPIRED")
    typed = str(code or "").strip()
    if not any(same(code_hash(key, record.token_hash, typed), data.code_hash) for key in deps.hmac_keys()):
        record.attempts += 1
        deps.store.save_token(record)  # conditional: concurrent guesses can't share one count
        left = max(0, limits.sms_code_tries - record.attempts)
        tries = TRIES_LEFT.of(left)
        raise CodeProblem(Text(f"The code is not right. {tries.en}.", f"الرمز غير صحيح. {tries.ar}."),
                          details={"tries_left": left})
    deps.store.use_token(record, now)
    assert data.civil_id and data.email and data.phone and data.language  # checked when the registration started
    civil_id, email, phone, language = data.civil_id, data.email, data.phone, data.language
    for field, name in (("civil_id", civil_id), ("email", email)):
        taken = deps.store.login_name(name)
        if taken is not None and taken.account_id:
            _tell_owner(deps, taken.account_id, field)
            raise UsernameTaken(field)
    password = temporary_password()
    account = Account(
        account_id=uuid.uuid4().hex, status="active", source="self", email=email, civil_id=civil_id,
        phone=phone, name=data.name, gender=data.gender, city=data.city, language=data.language,
        password_hash=deps.hasher.hash(password), password_kind="temporary", password_set_at=now,
        created_at=now, updated_at=now,
    )
    schedule_password_job(deps, account)
    try:
        deps.store.create_account(account, {"civil_id": civil_id, "email": email})
    except UsernameTaken as taken:  # claimed between our read and our write
        owner = deps.store.login_name(civil_id if taken.field == "civil_id" else email)
        if owner is not None and owner.account_id:
            _tell_owner(deps, owner.account_id, taken.field)
        raise
    deps.send(messages.temporary_password_sms(phone, language, civil_id, password,
                                              life.temporary_password_days))
    log_event("account_registered", account_id=account.account_id)
    return {"account_id": account.account_id, "username": civil_id, "status": "active"}


def _tell_owner(deps: AuthDeps, account_id: str, field: str) -> None:
    """The account's owner hears that someone (with a proven phone) tried to register their name."""
    owner = deps.store.account(account_id)
    log_event("registration_of_taken_name", field=field, account_id=account_id)
    if owner is None:
        return
    if owner.email:
        deps.send(messages.registration_attempt_notice("email", owner.email, owner.language, field))
    if owner.phone:
        deps.send(messages.registration_attempt_notice("sms", owner.phone, owner.language, field))
