"""Writes resources.json, the IAM policy files and config.json's functions (run on infrastructure changes; committed).

`python -m devstack.gen_resources`. The parts live in devstack/infra/, one module per concern;
the committed JSON is what `chalice package --merge-template` and the local stack read.
"""

from __future__ import annotations

import json

from devstack.infra import ROOT, api, data, domain, iam, monitoring, params, secrets, storage
from devstack.infra.data import TABLES
from devstack.infra.iam import iam_policy

__all__ = ["TABLES", "iam_policy", "template", "write_all"]


def template() -> dict:
    resources: dict = {}
    for part in (data, storage, secrets, api, domain, monitoring):
        resources.update(part.resources())
    merged = {"Parameters": params.parameters(), "Conditions": params.conditions(), "Rules": params.rules(),
              "Resources": resources, "Outputs": domain.outputs()}
    if params.globals_():
        merged["Globals"] = params.globals_()
    return merged


def write_all() -> None:
    (ROOT / "resources.json").write_text(json.dumps(template(), indent=2) + "\n", encoding="utf-8")
    for stage in ("dev", "prod"):
        path = ROOT / ".chalice" / f"policy-{stage}.json"
        path.write_text(json.dumps(iam_policy(stage), indent=2) + "\n", encoding="utf-8")
        for name, policy in iam.function_policies(stage).items():  # one role per function
            (ROOT / ".chalice" / name).write_text(json.dumps(policy, indent=2) + "\n", encoding="utf-8")
    # Each function's policy file, timeout and memory, as its capability declares them.
    config_path = ROOT / ".chalice" / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    for stage in ("dev", "prod"):
        config["stages"][stage]["lambda_functions"] = iam.lambda_functions(stage)
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_all()
