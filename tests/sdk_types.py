"""Which registered resources accept Azure tags, read from the SDK classes themselves."""

from __future__ import annotations

import importlib
import inspect
from functools import cache


@cache
def type_accepts_tags(type_token: str) -> bool:
    package, module, name = type_token.split(":")
    if package != "azure-native":
        return False
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def accepts_tags(registration) -> bool:
    # A generic ARM resource under a parent (a connection's access policy) is not taggable in Azure.
    if registration.type == "azure-native:resources:Resource" and registration.input("parentResourcePath"):
        return False
    return type_accepts_tags(registration.type)
