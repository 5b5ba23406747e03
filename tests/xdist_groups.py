"""pytest-xdist's `--dist loadgroup` working again under pytest 9.

xdist (3.8.0) marks a test of an `xdist_group` by appending "@<group>" to `item._nodeid`; pytest 9
keeps a node's id in `item._id`, so the suffix never reaches the scheduler and every group is
ignored: the make run tests and the packaging modules were spread over both workers (pytest-xdist
issue #1386, fix in pull request #1388, not released yet). After xdist's hook, this one copies the
suffixed id to where pytest 9 reads it. Remove it with the xdist release that carries the fix.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)  # after xdist's own pytest_collection_modifyitems has set _nodeid
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False) and getattr(config.option, "dist", "") != "loadgroup":
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest before 9: xdist's suffix works as it is
        return
    for item in items:
        wanted = item.__dict__.get("_nodeid")
        if isinstance(wanted, str) and wanted != item.nodeid and hasattr(item, "_id"):  # a slot in pytest 9
            node_id = NodeId.parse(wanted)
            # "test[param]@group" parses with the group inside the params; its text must stay exactly this.
            object.__setattr__(node_id, "_str_cache", wanted)
            item._id = node_id
