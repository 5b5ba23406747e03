"""The common-password list from the zxcvbn package: what it refuses, and that it loads lazily."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.accounts.common_passwords import common_passwords, is_common_password
from chalicelib.accounts.password_policy import RULE_COMMON, check_new_password
from chalicelib.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("password", ["password1", "qwerty123", "iloveyou", "PassWord1", "QWERTY123"])
def test_a_known_common_password_is_common_in_any_case(password):
    assert is_common_password(password)


def test_a_random_password_is_not_common():
    assert not is_common_password(secrets.token_urlsafe(12))


def test_the_list_holds_the_30_thousand_passwords_zxcvbn_carries():
    # Guards a zxcvbn upgrade that moves or shrinks the list: the check would pass everything.
    assert len(common_passwords()) >= 20_000


def test_the_policy_refuses_a_common_password_from_the_real_list():
    with pytest.raises(ValidationFailed) as caught:
        check_new_password("qwerty123", is_common=is_common_password)
    assert caught.value.fields["new_password"].rule == RULE_COMMON


def test_the_list_loads_on_first_use_without_importing_zxcvbn_itself():
    script = (
        "import sys\n"
        "from chalicelib.accounts import common_passwords as m\n"
        "assert m.common_passwords.cache_info().currsize == 0\n"
        "assert m.is_common_password('password1')\n"
        "assert m.common_passwords.cache_info().currsize == 1\n"
        "assert 'zxcvbn' not in sys.modules, 'the package __init__ builds dictionaries we do not need'\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)
