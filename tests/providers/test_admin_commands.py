"""python -m admin create-provider, rotate-provider-secret and disable-provider, against moto."""

from __future__ import annotations

import re

from admin.__main__ import main


def printed(capsys) -> dict[str, str]:
    out = capsys.readouterr().out
    return dict(re.findall(r"^(client_id|client_secret):\s+(\S+)$", out, re.MULTILINE))


def test_create_prints_the_secret_once_and_keeps_only_its_hash(aws, capsys):
    from chalicelib.providers.models import ProviderRecord
    from chalicelib.providers.rules import secret_hash

    assert main(["create-provider", "Al-Amiri Hospital"]) == 0
    shown = printed(capsys)

    record = ProviderRecord.get(shown["client_id"])
    assert record.name == "Al-Amiri Hospital" and record.status == "active"
    assert record.secret_hash == secret_hash(shown["client_secret"])
    assert shown["client_secret"] not in repr(record.attribute_values)


def test_rotate_replaces_the_secret_and_disable_refuses_the_provider(aws, capsys):
    from chalicelib.providers.models import ProviderRecord
    from chalicelib.providers.rules import secret_hash

    main(["create-provider", "Clinic"])
    first = printed(capsys)

    assert main(["rotate-provider-secret", first["client_id"]]) == 0
    second = printed(capsys)
    assert second["client_secret"] != first["client_secret"]
    assert ProviderRecord.get(first["client_id"]).secret_hash == secret_hash(second["client_secret"])

    assert main(["disable-provider", first["client_id"]]) == 0
    assert "client_secret" not in printed(capsys)
    assert ProviderRecord.get(first["client_id"]).status == "disabled"


def test_an_unknown_client_id_is_refused(aws, capsys):
    assert main(["disable-provider", "prv-nobody"]) == 2
    assert "ProviderNotFound" in capsys.readouterr().err
