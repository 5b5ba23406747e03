"""Drops from the Lambda zip the botocore models of AWS services the app never calls, and stray bytecode.

botocore ships a JSON model for every AWS service (about 440, most of the package's size);
a client loads only its own service's model, so the others are dead weight in Lambda. The
services kept are the ones the code creates clients for, plus those botocore itself needs.
tests/packaging checks that the slimmed zip still imports the app and builds every client.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

# dynamodb: PynamoDB; s3, ses, sns, sqs, secretsmanager: chalicelib/adapters; sts: credentials.
SERVICES_USED = ("dynamodb", "s3", "ses", "sns", "sqs", "secretsmanager", "sts")


def keep(name: str) -> bool:
    parts = name.split("/")
    if "__pycache__" in parts or name.endswith(".pyc"):
        # Stray bytecode chalice copies from the working tree (whatever interpreter ran the tests
        # last): it makes two builds of one commit differ, and Lambda compiles what it imports.
        return False
    if parts[:2] != ["botocore", "data"] or len(parts) < 4:
        return True  # not a service model (the top-level endpoints and partitions stay)
    return parts[2] in SERVICES_USED


def slim(zip_path: Path) -> tuple[int, int]:
    """Rewrite the zip in place without unused service models; returns (bytes before, after)."""
    before = zip_path.stat().st_size
    with (tempfile.NamedTemporaryFile(dir=zip_path.parent, suffix=".zip", delete=False) as tmp,
          zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target):
        for info in source.infolist():
            if keep(info.filename):
                # Same entry, same attributes (executable bits of native libraries included).
                with source.open(info) as data, target.open(info, "w") as out:
                    shutil.copyfileobj(data, out)
    Path(tmp.name).replace(zip_path)
    return before, zip_path.stat().st_size


if __name__ == "__main__":
    path = Path(sys.argv[1])
    old, new = slim(path)
    print(f"{path}: {old / 1024 / 1024:.1f} MB -> {new / 1024 / 1024:.1f} MB (unused botocore models dropped)")
