"""The README's "user's test" (the local_ground_truth fixture of the package's pytest plugin), run as a user
would: written to a file of its own and run by pytest in a subprocess, which finds the fixture through the
installed entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow  # the e2e / local-cloud loop: deselect with -m 'not slow'

MARKER = "<!-- tests/test_readme_user_test.py runs this block -->"


def test_the_readme_users_test_passes(tmp_path: Path) -> None:
    after = (ROOT / "README.md").read_text().split(MARKER, 1)[1]
    match = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert match is not None
    (tmp_path / "test_mine.py").write_text(match.group(1))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTEST_"))}
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
