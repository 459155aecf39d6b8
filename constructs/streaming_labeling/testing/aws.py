"""Where the local cloud (a moto server) listens, and boto3 clients pointed at it.

A value object so that the local Ground Truth and whoever starts the moto server agree on the
endpoint, region and account without sharing anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

#: moto's default account.
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class AwsEndpoints:
    """The local cloud's endpoint; ``client(service)`` gives a boto3 client with dummy credentials."""

    endpoint_url: str
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT

    def client(self, service: str) -> Any:
        factory: Any = boto3.client
        return factory(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, signature_version="s3v4"
                          if service == "s3" else None),
        )
