"""Every PynamoDB model's table, keys and indexes are the ones resources.json creates."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from pynamodb.models import Model

from devstack.provision import Resolver, resources_of

LIB = Path(__file__).resolve().parents[2] / "chalicelib"


def all_models() -> list[type[Model]]:
    # Every module of every feature: a model anywhere in chalicelib/ must match its table.
    for module in pkgutil.walk_packages([str(LIB)], prefix="chalicelib."):
        importlib.import_module(module.name)
    found, todo = [], list(Model.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if getattr(cls.Meta, "table_name", None):
            found.append(cls)
    return found


def key_schema(entries) -> set[tuple[str, str]]:
    return {(e["AttributeName"], e["KeyType"]) for e in entries}


def test_each_model_matches_its_table_in_the_template():
    resolve = Resolver("dev", "me-south-1")
    tables = {resolve(r["Properties"]["TableName"]): resolve(r["Properties"])
              for r in resources_of("AWS::DynamoDB::Table").values()}
    models = all_models()
    assert len(models) >= 7
    for model in models:
        table = tables[model.Meta.table_name]
        schema = model._get_schema()
        assert key_schema(schema["key_schema"]) == key_schema(table["KeySchema"]), model.__name__
        declared = {i["IndexName"]: (key_schema(i["KeySchema"]), i["Projection"]["ProjectionType"])
                    for i in table.get("GlobalSecondaryIndexes", [])}
        used = {i["index_name"]: (key_schema(i["key_schema"]), i["projection"]["ProjectionType"])
                for i in schema.get("global_secondary_indexes", [])}
        assert used.items() <= declared.items(), model.__name__
