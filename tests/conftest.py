"""Shared test setup: Node 22 for jsii, the project's CDK context, and once-per-session apps."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NODE_BIN = ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir():
    # jsii runs the first `node` on PATH; the project's Node 22 keeps it supported and quiet.
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

# The command line tests' local AWS endpoint (moto server and a scripted SageMaker).
from .cli_fixtures import local_aws  # noqa: E402,F401

# The handler tests' stand-in for CloudFormation's response URL.
from .handler_harness import server  # noqa: E402,F401
