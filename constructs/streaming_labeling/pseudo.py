"""The pseudo parameters as token strings, read once per stack (see ``StackState``).

``Aws.PARTITION`` and friends are the same token on every read, but each read is a round
trip to the jsii runtime; ARN patterns are built for every job, so they use these.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws


@dataclass(frozen=True)
class Pseudo:
    partition: str
    region: str
    account: str

    @staticmethod
    def read() -> Pseudo:
        return Pseudo(partition=Aws.PARTITION, region=Aws.REGION, account=Aws.ACCOUNT_ID)

    def arn(self, service: str, resource: str) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` of this stack's environment."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"
