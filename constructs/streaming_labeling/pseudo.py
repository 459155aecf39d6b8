"""The pseudo parameters as token strings, read from the jsii runtime once per process.

``Aws.PARTITION`` and friends are the same token on every read, but each read is a round
trip to the jsii runtime; ARN patterns are built for every job, so they use these.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from aws_cdk import Aws


@dataclass(frozen=True)
class Pseudo:
    partition: str
    region: str
    account: str


@lru_cache(maxsize=1)
def pseudo() -> Pseudo:
    return Pseudo(partition=Aws.PARTITION, region=Aws.REGION, account=Aws.ACCOUNT_ID)
