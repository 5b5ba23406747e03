"""Babel's locale data in the Lambda zip: only what the app loads (root, en, ar), and enough to count in Arabic."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from devstack.slim_package import LOCALES_USED, keep

# Run from the zip's own files only (-S: no site-packages): Babel and chalicelib as Lambda has them.
COUNT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from chalicelib.kernel.plurals import DAYS, MINUTES, category
import babel
assert babel.__file__.startswith(sys.argv[1]), babel.__file__
print(json.dumps({"categories": [category(n, "ar") for n in (0, 1, 2, 3, 10, 11, 100, 101)],
                  "days": [DAYS.of(n).ar for n in (1, 2, 7, 14)], "minutes": MINUTES.of(15).en}))
"""


def test_slimming_keeps_only_the_locales_the_app_loads():
    assert keep("babel/locale-data/ar.dat") and keep("babel/locale-data/en.dat") and keep("babel/locale-data/root.dat")
    assert not keep("babel/locale-data/fr.dat") and not keep("babel/locale-data/ar_KW.dat")
    assert keep("babel/global.dat") and keep("babel/core.py") and keep("babel/locale-data/LICENSE.unicode")


def test_the_slimmed_zip_still_counts_in_arabic(package, tmp_path):
    # Babel is pure Python: the Lambda zip's own files run here, whatever the architecture.
    with zipfile.ZipFile(package / "deployment.zip") as zf:
        names = zf.namelist()
        locales = sorted(n.rsplit("/", 1)[1] for n in names
                         if n.startswith("babel/locale-data/") and n.endswith(".dat"))
        zf.extractall(tmp_path / "lambda", [n for n in names if n.startswith(("babel/", "chalicelib/"))])
    assert locales == sorted(f"{code}.dat" for code in LOCALES_USED)

    result = subprocess.run([sys.executable, "-S", "-c", COUNT, str(tmp_path / "lambda")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    counted = json.loads(result.stdout)
    assert counted["categories"] == ["zero", "one", "two", "few", "few", "many", "other", "other"]
    assert counted["days"] == ["يوم واحد", "يومين", "7 أيام", "14 يومًا"]
    assert counted["minutes"] == "15 minutes"
