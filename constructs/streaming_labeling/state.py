"""What the library remembers per stack, owned by a construct in that stack, split by concern.

aws-cdk-lib keeps stack-wide singletons as children of the stack, found with
``node.try_find_child``; the library does the same (``stack_singleton``), so nothing
outlives the stack it belongs to and two apps in one process never share anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Set, Type, TypeVar

from aws_cdk import Stack, Token
from constructs import Construct, IConstruct

from .pseudo import Pseudo

STATE_ID = "StreamingLabelingJobState"

T = TypeVar("T", bound=Construct)


def stack_singleton(scope: IConstruct, construct_id: str, kind: Type[T], make: Callable[[Stack, str], T]) -> T:
    """The stack's one ``kind`` under ``construct_id``, made by ``make(stack, construct_id)`` on first use."""
    stack = scope if isinstance(scope, Stack) else Stack.of(scope)
    existing = stack.node.try_find_child(construct_id)
    return existing if isinstance(existing, kind) else make(stack, construct_id)


@dataclass
class StackEnvironment:
    """The stack's pseudo parameters and region, read from the jsii runtime once."""

    pseudo: Pseudo
    region: str
    region_is_token: bool


@dataclass
class NagMemory:
    """cdk-nag: singletons acknowledged (node paths), token strings rendered as nag prints them."""

    acknowledged: Set[str] = field(default_factory=set)
    rendered: Dict[str, str] = field(default_factory=dict)
    #: Stack-wide warnings already given.
    warned: Set[str] = field(default_factory=set)

    def first_time(self, construct: IConstruct) -> bool:
        """True once per construct: stack-wide singletons are acknowledged once, not per job."""
        path = construct.node.path
        if path in self.acknowledged:
            return False
        self.acknowledged.add(path)
        return True


@dataclass
class KeyPolicyMemory:
    """Execution roles already named in each key's policy, by the key's node path."""

    roles: Dict[str, Set[str]] = field(default_factory=dict)


@dataclass
class LookupMemory:
    """Built-in Lambda account lookups (``Fn::FindInMap``), by mapping id."""

    accounts: Dict[str, str] = field(default_factory=dict)


class StackState(Construct):
    """Per-stack memory of the library; it synthesizes to nothing. Use ``StackState.of(scope)``."""

    def __init__(self, stack: Stack, construct_id: str) -> None:
        super().__init__(stack, construct_id)
        region = stack.region
        self.env = StackEnvironment(pseudo=Pseudo.read(), region=region, region_is_token=Token.is_unresolved(region))
        self.nag = NagMemory()
        self.key_policies = KeyPolicyMemory()
        self.lookups = LookupMemory()

    @property
    def pseudo(self) -> Pseudo:
        return self.env.pseudo

    @staticmethod
    def of(scope: IConstruct) -> StackState:
        return stack_singleton(scope, STATE_ID, StackState, StackState)
