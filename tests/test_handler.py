"""The handler's naming rules and its asset's contract; its lifecycle is in test_handler_faults.py."""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, Dict, Set, Tuple

import pytest

from . import apps
from .api_contract import request_violations
from .cfn import custom_resource_properties
from .conftest import ROOT
from .handler_harness import (
    HANDLER_DIR,
    HANDLER_MODULES,
    STACK_ID,
    base_properties,
    changed_properties,
    event,
    load_handler,
)

HANDLER = load_handler()


def name_for(properties: Dict[str, Any], stack_id: str = STACK_ID, generation: int = 0) -> str:
    name: str = HANDLER.job_name(event("Create", "", properties, stack_id=stack_id), properties, generation)
    return name


@pytest.mark.parametrize("generation", [0, 1, 49])
def test_job_names_are_stable_lowercase_and_within_the_api_pattern(generation: int) -> None:
    props = base_properties(JobNamePrefix="A" * 50)
    name = name_for(props, generation=generation)
    assert name == name_for(base_properties(JobNamePrefix="A" * 50), generation=generation)
    assert name == name.lower() and len(name) <= 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
    assert not request_violations("DescribeLabelingJob", {"LabelingJobName": name})


def test_the_legacy_sequence_keeps_the_names_earlier_versions_gave() -> None:
    """Jobs deployed before protocol 3 are still found under their physical id."""
    assert HANDLER.legacy_name_of(STACK_ID, "Animals6F4865E6", base_properties(), 0) == "animals-b31716322d44"
    assert HANDLER.name_sequence(STACK_ID, "Animals6F4865E6", base_properties())[0] == "animals-b31716322d44"


@pytest.mark.parametrize("other", [
    {"stack_id": STACK_ID.replace("5b4f0c90", "77777777")},   # the same app's other stage (Dev / Prod)
    {"logical_id": "AnimalsExtra1A2B3C4D"},                    # a sibling in the same stack
])
def test_every_generation_shares_a_scope_no_other_resource_has(other: Dict[str, str]) -> None:
    """Rules match ``<prefix>-<scope>``: each resource's generations share it, another resource's never do."""
    props = base_properties()
    mine = [name_for(props, generation=g) for g in range(HANDLER.MAX_GENERATIONS)]
    prefix = HANDLER.generation_prefix(STACK_ID, "Animals6F4865E6", props)
    assert prefix.startswith("animals-") and len(prefix) == len("animals-") + 6
    assert all(name.startswith(prefix) for name in mine)
    stack_id, logical_id = other.get("stack_id", STACK_ID), other.get("logical_id", "Animals6F4865E6")
    theirs = [HANDLER.name_of(stack_id, logical_id, props, g) for g in range(HANDLER.MAX_GENERATIONS)]
    assert not any(name.startswith(prefix) for name in theirs)
    legacy = [HANDLER.legacy_name_of(STACK_ID, "Animals6F4865E6", props, g) for g in range(3)]
    assert not set(legacy) & set(mine), "the scoped sequence never reuses a name of the legacy one"


def test_each_generation_property_change_and_stack_gives_a_new_name() -> None:
    props = base_properties()
    other_stack = STACK_ID.replace("5b4f0c90", "77777777")
    names = {name_for(props, generation=g) for g in range(HANDLER.MAX_GENERATIONS)}
    names |= {name_for(changed_properties()), name_for(props, stack_id=other_stack)}
    assert len(names) == HANDLER.MAX_GENERATIONS + 2
    assert len(HANDLER.name_sequence(STACK_ID, "Animals6F4865E6", props)) == 2 * HANDLER.MAX_GENERATIONS


def test_non_job_properties_do_not_rename_the_job() -> None:
    assert name_for(base_properties()) == name_for(base_properties(WaitForStoppedOnDelete="true", ServiceTimeout="60"))


def asset_imports() -> Dict[str, Set[Tuple[str, bool]]]:
    """Each asset module's imports: (top-level name, whether only under ``if TYPE_CHECKING``)."""
    found: Dict[str, Set[Tuple[str, bool]]] = {}
    for path in sorted(HANDLER_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        checking = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                    and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                    for node in ast.walk(ast.Module(body=block.body, type_ignores=[]))}
        imports: Set[Tuple[str, bool]] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports |= {(alias.name.split(".")[0], id(node) in checking) for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: a relative import cannot be loaded as Lambda loads the asset"
                imports.add((str(node.module).split(".")[0], id(node) in checking))
        found[path.stem] = imports
    return found


def test_the_handler_imports_only_the_standard_library_boto3_and_its_own_modules() -> None:
    modules = set(HANDLER_MODULES)
    for module, imports in asset_imports().items():
        for name, type_checking_only in imports:
            if type_checking_only:  # mypy's view of the asset: the package of the same files
                assert name == "streaming_labeling", (module, name)
                continue
            allowed = name in sys.stdlib_module_names or name in {"__future__", "boto3", "botocore"} or name in modules
            assert allowed, (module, name)
    assert {name for name, _ in asset_imports()["shared"]} <= set(sys.stdlib_module_names) | {"__future__"}


def test_the_asset_loads_standalone_as_lambda_loads_it(tmp_path: Path) -> None:
    """Only the asset's folder on sys.path (a copy, outside the package): ``index.handler`` and its modules."""
    asset = tmp_path / "asset"
    shutil.copytree(HANDLER_DIR, asset, ignore=shutil.ignore_patterns("__pycache__"))
    probe = ("import json, sys; sys.path.insert(0, sys.argv[1]); import index; "
             "print(json.dumps({'handler': callable(index.handler), 'library': sorted(m for m in sys.modules "
             "if m.startswith('streaming_labeling')), 'files': sorted({m: getattr(sys.modules[m], '__file__', '') "
             "for m in sys.modules if getattr(sys.modules[m], '__file__', '') and "
             "sys.modules[m].__file__.startswith(sys.argv[1])})}))")
    out = subprocess.run([sys.executable, "-c", probe, str(asset)], check=True, capture_output=True, text=True,
                         cwd=tmp_path).stdout
    loaded = json.loads(out)
    assert loaded["handler"] and loaded["library"] == []
    assert loaded["files"] == sorted(HANDLER_MODULES)


def test_the_cli_and_the_library_import_the_shared_module_from_the_package() -> None:
    from streaming_labeling import conventions
    from streaming_labeling.cli import app, errors, target
    from streaming_labeling.handler import shared

    assert Path(str(shared.__file__)) == HANDLER_DIR / "shared.py"
    for name in ("STACK_TAG", "RESOURCE_TAG", "STOPPED_BY_TAG", "SUBSCRIBED_AT_TAG", "QUEUE_PREFIX",
                 "INPUT_BUCKET_TAG", "RESERVED_TAG_PREFIX"):
        assert getattr(conventions, name) is getattr(shared, name), name
    assert target.ENDED == shared.FINISHED_STATUSES and target.TAKES_DATA == (shared.IN_PROGRESS,)
    assert shared.THROTTLING_CODES <= errors.TRANSIENT_CODES and shared.THROTTLING_CODES <= HANDLER.TRANSIENT_CODES
    assert app.split_s3_uri("s3://bucket/some/prefix") == shared.split_s3_uri("s3://bucket/some/prefix") == (
        "bucket", "some/prefix")


def test_the_handler_tags_jobs_with_the_tag_the_construct_scopes_its_policy_by() -> None:
    """The asset's copy of the shared module (as Lambda loads it) and the library's agree."""
    from streaming_labeling import conventions

    for name in ("STACK_TAG", "RESOURCE_TAG", "STOPPED_BY_TAG", "SUBSCRIBED_AT_TAG", "QUEUE_PREFIX"):
        assert getattr(HANDLER, name) == getattr(conventions, name), name


def test_every_handler_module_is_packaged_and_in_the_asset(tmp_path: Path) -> None:
    """The wheel's package-data and the Lambda asset (its exclude list) hold every module of the handler."""
    import aws_cdk as cdk

    from streaming_labeling import StreamingLabelingJob, TaskType

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    modules = {path.name for path in HANDLER_DIR.glob("*.py")}
    assert {name for name in modules if fnmatch.fnmatch(f"handler/{name}", "handler/*.py")} == modules
    assert "handler/*.py" in patterns["streaming_labeling"]
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Asset")
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
    app.synth()
    (asset,) = [path for path in tmp_path.glob("asset.*") if (path / "index.py").exists()]
    assert {path.name for path in asset.iterdir()} == modules


def changed(value: Any) -> Any:
    """Another value of a property's kind."""
    if isinstance(value, dict):
        return {**value, "Changed": "yes"}
    return f"{value}-changed"


def test_every_property_of_the_request_is_part_of_the_job_identity_or_listed_as_not() -> None:
    """What the construct sends, and what the handler reads, is either the job (a change is a new job) or not."""
    identity, other = set(HANDLER.IDENTITY_PROPERTIES), set(HANDLER.NOT_IDENTITY_PROPERTIES)
    assert not identity & other
    sent: Set[str] = set()
    configurations = [apps.example(), apps.destroy_mode(), apps.bring_your_own()]
    template, ids = apps.catalog()["us-east-1"]
    configurations += [(template, logical_id) for logical_id in ids.values()]
    for template, logical_id in configurations:
        sent |= set(custom_resource_properties(template, logical_id, "us-east-1"))
    assert sent == identity | other, (sent - identity - other, identity | other - sent)
    read = {key for path in HANDLER_DIR.glob("*.py") for key in
            re.findall(r"properties(?:\.get\(|\[)[\"'](\w+)[\"']", path.read_text())}
    assert read <= identity | other, read - identity - other
    props = base_properties(UiTemplate="<crowd-form/>", HoldingQueueUrl="https://sqs/q", RenewAfterIdleStop="true",
                            Protocol="2")
    for key in sorted(identity | other):
        renamed = name_for({**props, key: changed(props[key])}) != name_for(props)
        assert renamed == (key in identity), key


def test_the_seams_live_in_one_module_and_each_load_has_its_own_state() -> None:
    first, second = load_handler(), load_handler()
    for seam in ("clock", "wall", "sleep", "jitter", "make_client"):
        assert [name for name, module in first.modules.items() if seam in vars(module)] == ["retry"], seam
    assert not set(first.modules.values()) & set(second.modules.values())
    first.clock = lambda: 5.0  # set where it is defined, and read there by every module
    assert first.modules["retry"].clock() == 5.0 and first.Deadline(type("C", (), {
        "get_remaining_time_in_millis": lambda self: 1000})(), 0).remaining() == 1.0
    assert second.modules["retry"].clock is not first.modules["retry"].clock
    assert all(sys.modules.get(name) is not module for name, module in first.modules.items()), "none left behind"
