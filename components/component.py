"""What every component of this program is: a `pulumi.ComponentResource` typed `agent-obo:<area>:<Name>`,
built from one typed args object, that registers its outputs once its children exist.

A component names its area and creates its children in `_create`, returning the outputs to register:

    class RuntimeIdentity(Component[RuntimeIdentityArgs], area="identity"):
        def _create(self, name: str, args: RuntimeIdentityArgs) -> pulumi.Inputs:
            self.identity = managedidentity.UserAssignedIdentity(name, ..., **args.placement.located(self))
            return {"id": self.identity.id}

The type token is part of every child's URN: renaming a component class or moving it to another area
replaces everything in it unless the old type is given as an alias (tests/snapshots show the change).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

import pulumi

from agent_obo.settings import PROJECT

ArgsT = TypeVar("ArgsT")


class Component(pulumi.ComponentResource, ABC, Generic[ArgsT]):
    type_token: ClassVar[str]

    def __init_subclass__(cls, *, area: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type_token = f"{PROJECT}:{area}:{cls.__name__}"

    def __init__(self, name: str, args: ArgsT, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.type_token, name, None, opts)
        self.register_outputs(self._create(name, args))

    def _child_options(self, **options: Any) -> pulumi.ResourceOptions:
        """Options for a child of this component; `options` (protect, depends_on, ...) pass through."""
        return pulumi.ResourceOptions(parent=self, **options)

    @abstractmethod
    def _create(self, name: str, args: ArgsT) -> pulumi.Inputs:
        """Creates the component's resources, each a child of this component (`parent=self`, or
        `args.placement.located(self)`); returns the outputs to register."""
