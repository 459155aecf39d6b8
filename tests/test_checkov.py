"""checkov (CloudFormation framework) on the example template: zero failed checks beyond the reasoned skip list."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from . import apps
from .conftest import ROOT

pytestmark = pytest.mark.slow  # the e2e / local-cloud loop: deselect with -m 'not slow'

CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
SKIPS = json.loads((ROOT / "compliance" / "checkov-skips.json").read_text())["skips"]


def test_every_skip_has_a_reason() -> None:
    assert SKIPS
    for skip in SKIPS:
        assert skip["id"].startswith("CKV_") and len(skip.get("reason", "")) >= 40, skip


def test_example_template_passes_checkov(tmp_path: Path) -> None:
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed: run `make install` (it creates .tools/checkov)")
    template_file = tmp_path / "example.template.json"
    template_file.write_text(json.dumps(apps.example()[0]))
    result = subprocess.run(
        [str(CHECKOV), "-f", str(template_file), "--framework", "cloudformation", "--output", "json",
         "--skip-download", "--skip-check", ",".join(skip["id"] for skip in SKIPS)],
        capture_output=True, text=True, env={**os.environ, "BC_SKIP_MAPPING": "TRUE"}, timeout=300,
    )
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 50, "checkov ran its CloudFormation checks"
