"""A resource's job names, and which of its properties are the job's identity.

A job name can never be reused, so each resource has a deterministic sequence
of names, generation 0, 1, 2, ...: ``<prefix>-<scope><6 hex>``. ``scope`` is 6 hex
of a hash of the stack id and the logical id, the same for every generation of
the resource and for no other resource (the stack id holds a UUID): EventBridge
rules match ``labeling-job/<prefix>-<scope>`` (``generation_prefix``) and so hear
this resource's jobs only, whatever other jobs share the prefix. The last 6 hex
hash the job's identity (``IDENTITY_PROPERTIES``) and the generation. Create and
Update walk the sequence (``lifecycle``).

Versions before protocol 3 named generations ``<prefix>-<12 hex>`` with all 12 hex
from one hash (``legacy_name_of``). A resource deployed then keeps its running
job: its walk goes through the legacy names that exist, then on to the scoped
ones (``claim_walk``), so its next generation is scoped.

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
#: Hex characters of the per-resource scope at the start of the hash part; the rest is per generation.
SCOPE_LENGTH = 6
#: Generations tried before giving up on a resource's names.
MAX_GENERATIONS = 50


def job_identity(properties: Mapping[str, Any]) -> Dict[str, Any]:
    """The properties that define the job; a change in any of them is a new job."""
    return {key: properties.get(key) for key in IDENTITY_PROPERTIES}


def scope_of(stack_id: str, logical_id: str) -> str:
    """The hex every generation of one resource shares, and no other resource's (the stack id is unique)."""
    digest = hashlib.sha256(f"{stack_id}/{logical_id}".encode()).hexdigest()
    return digest[:SCOPE_LENGTH]


def _identity_digest(stack_id: str, logical_id: str, properties: Mapping[str, Any], generation: int) -> str:
    identity: Dict[str, Any] = {"stack": stack_id, "resource": logical_id, "job": job_identity(properties)}
    if generation:
        identity["generation"] = generation
    fingerprint = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()


def generation_prefix(stack_id: str, logical_id: str, properties: Mapping[str, Any]) -> str:
    """What every scoped generation's name of the resource starts with: ``<prefix>-<scope>``."""
    return f"{str(properties['JobNamePrefix']).lower()}-{scope_of(stack_id, logical_id)}"


def name_of(stack_id: str, logical_id: str, properties: Mapping[str, Any], generation: int = 0) -> str:
    """The scoped name of ``generation``: ``<prefix>-<scope><6 hex of the identity and generation>``."""
    digest = _identity_digest(stack_id, logical_id, properties, generation)[:HASH_LENGTH - SCOPE_LENGTH]
    return f"{generation_prefix(stack_id, logical_id, properties)}{digest}"


def legacy_name_of(stack_id: str, logical_id: str, properties: Mapping[str, Any], generation: int = 0) -> str:
    """The name versions before protocol 3 gave ``generation``: ``<prefix>-<12 hex>``, unscoped."""
    digest = _identity_digest(stack_id, logical_id, properties, generation)[:HASH_LENGTH]
    return f"{str(properties['JobNamePrefix']).lower()}-{digest}"


def job_name(event: Mapping[str, Any], properties: Mapping[str, Any], generation: int = 0) -> str:
    """The name of generation ``generation`` of a raw event's resource (``StackId``, ``LogicalResourceId``)."""
    return name_of(event["StackId"], event["LogicalResourceId"], properties, generation)


def claim_walk(stack_id: Optional[str], logical_id: Optional[str], properties: Mapping[str, Any]) -> List[List[str]]:
    """The two sequences a walk goes through in order: the legacy names (while they exist), then the scoped
    ones. Each ends at its first free name; empty when the event cannot tell."""
    if stack_id is None or logical_id is None:
        return []
    try:
        return [[make(stack_id, logical_id, properties, generation) for generation in range(MAX_GENERATIONS)]
                for make in (legacy_name_of, name_of)]
    except (KeyError, TypeError, AttributeError):
        return []


def name_sequence(stack_id: Optional[str], logical_id: Optional[str], properties: Mapping[str, Any]) -> List[str]:
    """Every name a resource's jobs can have, legacy ones first; empty when the event cannot tell."""
    return [name for sequence in claim_walk(stack_id, logical_id, properties) for name in sequence]


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
