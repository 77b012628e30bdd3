"""The offline mocks answer what the programs ask and nothing else: no answer for a type or an invoke
that no stack registers or calls, in either project and either host-storage mode."""

from __future__ import annotations

from offline.mocks import ARM_TYPES, AzureMocks, handler_name


def test_every_answer_of_the_mocks_is_asked_for_by_some_stack(plans, access_key_plans, bootstrap):
    runs = [*plans.values(), *access_key_plans.values(), bootstrap]
    registered = {registration.type for plan in runs for registration in plan.resources}
    invoked = {token for plan in runs for token in plan.invokes}
    handled = {handler_name(type_) for type_ in registered}
    assert AzureMocks.resource_handlers() - handled == set(), "resource answers no stack registers"
    assert set(ARM_TYPES) - registered == set(), "generic ARM answers for types no stack registers"
    assert set(AzureMocks.INVOKES) - invoked == set(), "invoke answers no stack calls"


def test_a_type_has_one_answer():
    assert {handler_name(type_) for type_ in ARM_TYPES} & AzureMocks.resource_handlers() == set(), \
        "a type with its own handler never reaches the generic ARM answer"
