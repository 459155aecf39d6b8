"""A resource's job names, and which of its properties are the job's identity.

A job name can never be reused, so each resource has a deterministic sequence
of names, generation 0, 1, 2, ...: ``<prefix>-<12 hex>``, the hex a hash of the
stack id, the logical id, the job's identity (``IDENTITY_PROPERTIES``) and (from
1 on) the generation. Create and Update walk the sequence (``lifecycle``).

The resource's physical id is its generation-0 name whichever generation runs
(``resource_id``), so renewals and a dead job's successor never change it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

if TYPE_CHECKING:  # mypy reads the asset as the package streaming_labeling.handler
    from streaming_labeling.handler import shared
else:  # Lambda puts the asset folder on sys.path: its modules are top-level
    import shared

#: The properties that define the job; a change in any of them is a new job.
IDENTITY_PROPERTIES = ("JobNamePrefix", "Request", "LabelCategoryConfig", "UiTemplate", "ConfigS3Prefix")
#: The properties the handler reads that are not the job's identity, and why a change keeps the job.
NOT_IDENTITY_PROPERTIES = {
    "ServiceToken": "the handler's function, which CloudFormation requires",
    "ServiceTimeout": "how long CloudFormation waits for the answer",
    "ConfigKmsKeyId": "how the config files are encrypted, not what the job does",
    "WaitForStoppedOnDelete": "how a Delete stops the job (the removal policy)",
    "Protocol": "the version of the properties' format, changed by library upgrades",
    "RenewAfterIdleStop": "what happens after an idle stop, not what the job does",
    "HoldingQueueUrl": "where objects wait during a renewal, not what the job does",
}

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
HASH_LENGTH = 12
#: Generations tried before giving up on a resource's names.
MAX_GENERATIONS = 50


def job_identity(properties: Mapping[str, Any]) -> Dict[str, Any]:
    """The properties that define the job; a change in any of them is a new job."""
    return {key: properties.get(key) for key in IDENTITY_PROPERTIES}


def name_of(stack_id: str, logical_id: str, properties: Mapping[str, Any], generation: int = 0) -> str:
    """Generation 0 is the name earlier versions gave; later ones hash the generation in too."""
    identity: Dict[str, Any] = {"stack": stack_id, "resource": logical_id, "job": job_identity(properties)}
    if generation:
        identity["generation"] = generation
    fingerprint = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    prefix = str(properties["JobNamePrefix"]).lower()
    return f"{prefix}-{digest}"


def job_name(event: Mapping[str, Any], properties: Mapping[str, Any], generation: int = 0) -> str:
    """The name of generation ``generation`` of a raw event's resource (``StackId``, ``LogicalResourceId``)."""
    return name_of(event["StackId"], event["LogicalResourceId"], properties, generation)


def name_sequence(stack_id: Optional[str], logical_id: Optional[str], properties: Mapping[str, Any]) -> List[str]:
    """Every name a resource's jobs can have, generation 0 first; empty when the event cannot tell."""
    if stack_id is None or logical_id is None:
        return []
    try:
        return [name_of(stack_id, logical_id, properties, generation) for generation in range(MAX_GENERATIONS)]
    except (KeyError, TypeError):
        return []


def is_job_name(value: Optional[str]) -> bool:
    return bool(value) and JOB_NAME_PATTERN.match(str(value)) is not None


def resource_id(
    kind: str,
    stack_id: Optional[str],
    logical_id: Optional[str],
    properties: Mapping[str, Any],
    physical_id: Optional[str],
    old_properties: Optional[Mapping[str, Any]],
) -> Optional[str]:
    """The physical id of a resource whose job exists: the same whichever generation runs.

    It is the resource's generation-0 name (the name earlier versions gave its first job), so
    deployed resources keep their id. An update that keeps the job's properties keeps the id
    CloudFormation holds, when it is a name of the sequence (a generation an earlier version
    moved on to). Renewals and a dead job's successor therefore never change it, and a Delete
    of it stops whichever generation runs.
    """
    if stack_id is None or logical_id is None:
        return None
    try:
        first = name_of(stack_id, logical_id, properties, 0)
    except (KeyError, TypeError, AttributeError):
        return None
    unchanged = isinstance(old_properties, dict) and job_identity(properties) == job_identity(old_properties)
    if kind == "Update" and unchanged and physical_id in name_sequence(stack_id, logical_id, properties):
        return str(physical_id)
    return first


def queue_name(job: str) -> str:
    """Ground Truth's queue of a job."""
    return f"{shared.QUEUE_PREFIX}{job.lower()}"
