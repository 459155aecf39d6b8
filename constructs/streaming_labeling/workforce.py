"""Who labels the data: a private work team, a vendor, or the public crowd."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Dict, Optional, Sequence

from aws_cdk import Aws, Token

from .task_types import PUBLIC_WORKTEAM_ACCOUNT


class WorkforceKind(enum.Enum):
    """Matches the ``sagemaker:WorkteamType`` condition key values."""

    PRIVATE = "private-crowd"
    VENDOR = "vendor-crowd"
    PUBLIC = "public-crowd"


class ContentClassifier(enum.Enum):
    """Declarations about the data that the public workforce requires."""

    FREE_OF_PERSONALLY_IDENTIFIABLE_INFORMATION = "FreeOfPersonallyIdentifiableInformation"
    FREE_OF_ADULT_CONTENT = "FreeOfAdultContent"


@dataclass(frozen=True)
class Workforce:
    """The work team that receives the tasks. Build one with a factory method."""

    kind: WorkforceKind
    workteam_arn: str
    price_per_task_usd: Optional[Decimal] = None
    content_classifiers: Sequence[ContentClassifier] = ()

    @staticmethod
    def private(workteam_arn: str) -> Workforce:
        """Your own private work team (``...:workteam/private-crowd/<team>``)."""
        return Workforce(WorkforceKind.PRIVATE, workteam_arn)

    @staticmethod
    def vendor(workteam_arn: str) -> Workforce:
        """A vendor work team from AWS Marketplace (``...:workteam/vendor-crowd/<vendor>``)."""
        return Workforce(WorkforceKind.VENDOR, workteam_arn)

    @staticmethod
    def public(
        *,
        price_per_task_usd: Decimal | str | None = None,
        content_classifiers: Sequence[ContentClassifier] = (
            ContentClassifier.FREE_OF_PERSONALLY_IDENTIFIABLE_INFORMATION,
        ),
    ) -> Workforce:
        """The Amazon Mechanical Turk public crowd, in the stack's region.

        Mechanical Turk closed on 2026-09-30: synthesis warns about it. The
        price per task (0.012 to 1.200 USD in tenths of a cent) is required,
        and the service fails a public job whose data is not declared free of
        personally identifiable information, hence the default classifier.
        """
        price = Decimal(str(price_per_task_usd)) if price_per_task_usd is not None else None
        arn = f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{PUBLIC_WORKTEAM_ACCOUNT}:workteam/public-crowd/default"
        return Workforce(WorkforceKind.PUBLIC, arn, price, tuple(content_classifiers))

    @property
    def is_public(self) -> bool:
        return self.kind is WorkforceKind.PUBLIC

    def public_task_price(self) -> Optional[Dict[str, Any]]:
        """``PublicWorkforceTaskPrice`` as the API spells it, or None."""
        if self.price_per_task_usd is None:
            return None
        tenths = int((self.price_per_task_usd * 1000).to_integral_value(ROUND_HALF_UP))
        return {
            "AmountInUsd": {
                "Dollars": tenths // 1000,
                "Cents": (tenths // 10) % 100,
                "TenthFractionsOfACent": tenths % 10,
            }
        }

    @property
    def arn_is_token(self) -> bool:
        return Token.is_unresolved(self.workteam_arn)
