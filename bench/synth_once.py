"""One synthesis, as a child process of the benchmark: ``synth_once.py VARIANT JOBS OUTDIR``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import build  # noqa: E402

variant, jobs, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
build(variant, jobs, outdir).synth()
