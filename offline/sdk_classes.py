"""The Pulumi SDK class of a resource type token, for the programs' packages: `azure-native:web:WebApp`
is pulumi_azure_native.web.WebApp, `azuread:index/application:Application` pulumi_azuread.Application.
Used by the policy harness (the outputs a class declares), offline/sdk_only.py (registering a plan's
resources again) and the tests (which types take tags)."""

from __future__ import annotations

import importlib
import inspect

PACKAGES = {"azure-native": "pulumi_azure_native", "azuread": "pulumi_azuread", "random": "pulumi_random"}


def resource_class(type_token: str) -> type | None:
    """The SDK class registering `type_token`; None for a type of another package, or one the SDK lacks."""
    package, module, name = type_token.split(":")
    if package not in PACKAGES:
        return None
    path = PACKAGES[package] if module.startswith("index") else f"{PACKAGES[package]}.{module}"
    try:
        found: type = getattr(importlib.import_module(path), name)
    except (ImportError, AttributeError):
        return None
    return found


def args_class(cls: type) -> type:
    """The arguments class of a resource class: `<Name>Args`, or `<Name>InitArgs` where a nested type already
    has that name (monitor's ActionGroupArgs)."""
    module = importlib.import_module(cls.__module__)
    found: type = getattr(module, f"{cls.__name__}InitArgs", None) or getattr(module, f"{cls.__name__}Args")
    return found


def property_names(cls: type) -> dict[str, str]:
    """A generated class's properties: the engine's (camelCase) name of each, to its Python name, as the
    generator's `@pulumi.getter(name=...)` declares it."""
    return {getattr(member.fget, "_pulumi_name", None) or attribute: attribute
            for attribute, member in inspect.getmembers(cls, lambda m: isinstance(m, property))}
