"""A SMART Health Card revocation list (CRL): which rids it lists, from when, and its version counter.

Pure values; revocation.py stores them in S3 and serves them at /.well-known/crl/<kid>.json.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RevocationList:
    """One key's CRL. `ctr` starts at 1 (the spec's initial value) for a key nothing was revoked under."""

    kid: str
    ctr: int = 1
    rids: tuple[str, ...] = field(default_factory=tuple)

    def document(self) -> dict[str, object]:
        """The JSON body published at /.well-known/crl/<kid>.json."""
        return {"kid": self.kid, "method": "rid", "ctr": self.ctr, "rids": list(self.rids)}

    def revokes(self, rid: str, issued_at_seconds: int) -> bool:
        """Whether a card with `rid` issued at `issued_at_seconds` is revoked by this list."""
        for entry in self.rids:
            listed, _, until = entry.partition(".")
            if listed == rid and (not until or issued_at_seconds < int(until)):
                return True
        return False

    def with_entries(self, entries: Iterable[str]) -> RevocationList:
        """The list with `entries` added; the same object when nothing changes (and so the same ctr).

        A rid already listed keeps the later of its two stamps: revoking a person again (cover restored,
        then ended again) must also revoke the cards drawn in between.
        """
        merged = {entry.partition(".")[0]: entry for entry in self.rids}
        for entry in entries:
            rid = entry.partition(".")[0]
            if rid not in merged or _revokes_more(entry, merged[rid]):
                merged[rid] = entry
        if set(merged.values()) == set(self.rids):
            return self
        return RevocationList(self.kid, self.ctr + 1, tuple(sorted(merged.values())))


def _revokes_more(entry: str, listed: str) -> bool:
    """True when `entry` revokes cards `listed` does not: no stamp (all cards), or a later one."""
    _, _, new = entry.partition(".")
    _, _, old = listed.partition(".")
    if not old:
        return False
    return not new or int(new) > int(old)
