"""The offline mocks answer what the programs ask and nothing else: no answer for a type or an invoke
that no stack registers or calls, in either project and either host-storage mode."""

from __future__ import annotations

from offline.mocks import ARM_TYPES, SUBSCRIPTION_ID, AzureMocks, handler_name


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



# ARM ids of nested types, written out: the parents' types and names, then the resource's own (Azure REST reference).
CHILD_IDS = {
    "azure-native:storage:BlobContainer": "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/"
                                          "containers/{containerName}",
    "azure-native:storage:FileShare": "Microsoft.Storage/storageAccounts/{accountName}/fileServices/default/"
                                      "shares/{shareName}",
    "azure-native:network:Subnet": "Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
    "azure-native:network:PrivateDnsZoneGroup": "Microsoft.Network/privateEndpoints/{privateEndpointName}/"
                                                "privateDnsZoneGroups/{privateDnsZoneGroupName}",
    "azure-native:privatedns:VirtualNetworkLink": "Microsoft.Network/privateDnsZones/{privateZoneName}/"
                                                  "virtualNetworkLinks/{virtualNetworkLinkName}",
}


def test_a_nested_resource_s_id_names_its_parents_then_itself(plans, access_key_plans):
    registrations = [r for plan in (plans["prod"], access_key_plans["prod"]) for r in plan.resources
                     if r.type in CHILD_IDS]
    assert {r.type for r in registrations} == set(CHILD_IDS)
    for registration in registrations:
        inputs = registration.inputs
        scope = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs['resourceGroupName']}/providers/"
        assert registration.resource_id == scope + CHILD_IDS[registration.type].format(**inputs), registration.urn
        assert registration.outputs["name"] == registration.resource_id.rsplit("/", 1)[-1]
