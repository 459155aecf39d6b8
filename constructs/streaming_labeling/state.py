"""What the library remembers per stack, owned by a construct in that stack.

aws-cdk-lib keeps stack-wide singletons as children of the stack, found with
``node.try_find_child``; the library does the same, so nothing outlives the
stack it belongs to and two apps in one process never share anything.
"""

from __future__ import annotations

from typing import Dict, Set

from aws_cdk import Stack, Token
from constructs import Construct, IConstruct

from .pseudo import Pseudo

STATE_ID = "StreamingLabelingJobState"


class StackState(Construct):
    """Per-stack memory of the library; it synthesizes to nothing. Use ``StackState.of(scope)``."""

    def __init__(self, stack: Stack, construct_id: str) -> None:
        super().__init__(stack, construct_id)
        self.pseudo = Pseudo.read()
        self.region = stack.region
        self.region_is_token = Token.is_unresolved(self.region)
        #: Built-in Lambda account lookups (``Fn::FindInMap``), by mapping id.
        self.account_lookups: Dict[str, str] = {}
        #: aws-cdk-lib singletons whose cdk-nag findings were acknowledged, by node path.
        self.acknowledged: Set[str] = set()
        #: Execution roles already named in each key's policy, by the key's node path.
        self.roles_in_key_policy: Dict[str, Set[str]] = {}
        #: Token strings rendered the way cdk-nag prints them.
        self.rendered: Dict[str, str] = {}
        #: Stack-wide warnings already given.
        self.warned: Set[str] = set()

    @staticmethod
    def of(scope: IConstruct) -> StackState:
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(STATE_ID)
        if isinstance(existing, StackState):
            return existing
        return StackState(stack, STATE_ID)

    def first_time(self, construct: IConstruct) -> bool:
        """True once per construct: stack-wide singletons are acknowledged once, not per job."""
        path = construct.node.path
        if path in self.acknowledged:
            return False
        self.acknowledged.add(path)
        return True
