"""Writes resources.json and the IAM policy files (run when the infrastructure changes; both are committed).

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


if __name__ == "__main__":
    write_all()
