"""argon2id hashing: round trips, refusals that never raise, rehash on weaker parameters, dummy verify."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import argon2
import pytest

from chalicelib.accounts import hashing as passwords
from chalicelib.accounts.hashing import (
    DEFAULT_PARAMETERS,
    OWASP_MINIMUM,
    Argon2Hasher,
    burn_dummy_verify,
    hash_password,
    needs_rehash,
    verify_password,
)

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Blue-camel drinks tea 7"

pytestmark = pytest.mark.production_argon2  # these tests are about the production parameters


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)


def test_a_hash_verifies_against_the_same_password(stored):
    assert verify_password(stored, PASSWORD)


def test_a_wrong_password_does_not_verify(stored):
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password(stored, "")


def test_the_hash_is_argon2id_at_the_default_parameters_and_never_holds_the_password(stored):
    p = DEFAULT_PARAMETERS
    assert stored.startswith(f"$argon2id$v=19$m={p.memory_kib},t={p.time_cost},p={p.parallelism}$")
    assert PASSWORD not in stored


def test_the_same_password_hashes_differently_each_time(stored):
    assert hash_password(PASSWORD) != stored


@pytest.mark.parametrize(
    "garbage",
    ["", "not a hash", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
     "$argon2id$v=19$m=32768,t=2,p=1$bad$bad", None, 42],
)
def test_an_unreadable_hash_answers_false_instead_of_raising(garbage):
    assert verify_password(garbage, PASSWORD) is False


def test_a_lone_surrogate_in_a_login_attempt_answers_false_instead_of_raising(stored):
    assert verify_password(stored, "Blue\ud800") is False


def test_the_same_password_typed_in_another_unicode_form_still_verifies():
    # é as one code point or as e + combining accent; the Arabic lam-alef ligature or its two letters.
    assert verify_password(hash_password("caf\u00e9 au lait 9"), "cafe\u0301 au lait 9")
    assert verify_password(hash_password("\ufefb-seven-7"), "\u0644\u0627-seven-7")


def test_a_hash_made_with_weaker_parameters_needs_a_rehash_and_still_verifies():
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=argon2.Type.ID)
    old = weak.hash(PASSWORD)
    assert needs_rehash(old)
    assert verify_password(old, PASSWORD)


def test_a_hash_at_the_current_parameters_needs_no_rehash(stored):
    assert not needs_rehash(stored)


def test_raising_the_parameters_makes_existing_hashes_need_a_rehash(stored):
    stronger = Argon2Hasher(memory_kib=DEFAULT_PARAMETERS.memory_kib * 2)
    assert stronger.needs_rehash(stored)
    assert stronger.verify(stored, PASSWORD)


def test_an_unreadable_hash_needs_a_rehash():
    assert needs_rehash("not a hash")


@pytest.mark.parametrize(
    "weaker",
    [{"memory_kib": OWASP_MINIMUM.memory_kib - 1}, {"time_cost": 1}, {"parallelism": 0}],
    ids=["less memory", "one pass", "no lane"],
)
def test_parameters_below_owasp_minimum_are_refused(weaker):
    with pytest.raises(ValueError, match="OWASP"):
        Argon2Hasher(**weaker)


def test_the_defaults_are_at_least_owasp_minimum():
    assert DEFAULT_PARAMETERS.memory_kib >= OWASP_MINIMUM.memory_kib == 19_456
    assert DEFAULT_PARAMETERS.time_cost >= OWASP_MINIMUM.time_cost == 2
    assert DEFAULT_PARAMETERS.parallelism >= OWASP_MINIMUM.parallelism == 1


def test_the_dummy_verify_runs_argon2_at_the_same_parameters_as_real_accounts():
    # Same parameters means the same work as verifying a real account's hash (timing is for make bench).
    hasher = Argon2Hasher()
    hasher.burn_dummy_verify(PASSWORD)
    hasher.burn_dummy_verify("wrong password")

    assert hasher._dummy_hash is not None
    assert hasher._dummy_hash.startswith("$argon2id$")
    assert not hasher.needs_rehash(hasher._dummy_hash)


def test_the_module_level_dummy_verify_returns_nothing():
    assert burn_dummy_verify(PASSWORD) is None
    assert burn_dummy_verify(PASSWORD) is None


def test_argon2_is_imported_only_when_a_password_is_hashed():
    script = (
        "import sys\n"
        "from chalicelib.accounts import hashing as passwords\n"
        "assert 'argon2' not in sys.modules\n"
        "passwords.Argon2Hasher()\n"
        "assert 'argon2' not in sys.modules\n"
        "assert passwords.verify_password(passwords.hash_password('x' * 8), 'x' * 8)\n"
        "assert 'argon2' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)


def test_one_default_hasher_serves_the_container():
    assert passwords.default_hasher() is passwords.default_hasher()
