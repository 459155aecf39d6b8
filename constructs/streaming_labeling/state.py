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


#: Attribute of a stack's Python object: the library's singletons found or made in it, by construct id.
_SINGLETONS_ATTR = "_streaming_labeling_singletons"
#: Attribute of a construct's Python object: jsii values of its node that never change (``addr``, ``path``).
_NODE_VALUES_ATTR = "_streaming_labeling_node_values"


def stack_singleton(scope: IConstruct, construct_id: str, kind: Type[T], make: Callable[[Stack, str], T]) -> T:
    """The stack's one ``kind`` under ``construct_id``, made by ``make(stack, construct_id)`` on first use.

    Found in the tree once (``node.try_find_child``), then remembered by the stack's Python object:
    every lookup after the first costs no jsii round trip. A child cannot be replaced under the same
    id, so the remembered construct stays the one the tree holds.
    """
    stack = scope if isinstance(scope, Stack) else Stack.of(scope)
    found: Dict[str, Construct] = stack.__dict__.setdefault(_SINGLETONS_ATTR, {})
    remembered = found.get(construct_id)
    if isinstance(remembered, kind):
        return remembered
    existing = stack.node.try_find_child(construct_id)
    singleton = existing if isinstance(existing, kind) else make(stack, construct_id)
    found[construct_id] = singleton
    return singleton


def _node_value(construct: IConstruct, name: str) -> str:
    values: Dict[str, str] = construct.__dict__.setdefault(_NODE_VALUES_ATTR, {})
    if name not in values:
        values[name] = getattr(construct.node, name)
    return values[name]


def node_addr(construct: IConstruct) -> str:
    """``construct.node.addr``, read from the jsii runtime once per construct (it never changes)."""
    return _node_value(construct, "addr")


def node_path(construct: IConstruct) -> str:
    """``construct.node.path``, read from the jsii runtime once per construct (it never changes)."""
    return _node_value(construct, "path")


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
    #: Ids of aws-cdk-lib's stack-wide singletons found and acknowledged: not looked up again.
    singletons_done: Set[str] = field(default_factory=set)

    def first_time(self, construct: IConstruct) -> bool:
        """True once per construct: stack-wide singletons are acknowledged once, not per job."""
        path = node_path(construct)
        if path in self.acknowledged:
            return False
        self.acknowledged.add(path)
        return True


@dataclass
class KeyPolicyMemory:
    """Execution roles already named in each key's policy, by key (a construct hashes by identity)."""

    roles: Dict[IConstruct, Set[str]] = field(default_factory=dict)


@dataclass
class LookupMemory:
    """Built-in Lambda account lookups (``Fn::FindInMap``), by mapping id."""

    accounts: Dict[str, str] = field(default_factory=dict)


class StackState(Construct):
    """Per-stack memory of the library; it synthesizes to nothing. Use ``StackState.of(scope)``."""

    def __init__(self, stack: Stack, construct_id: str) -> None:
        super().__init__(stack, construct_id)
        #: The stack itself, so that code holding the state needs no ``Stack.of`` round trip.
        self.stack = stack
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
