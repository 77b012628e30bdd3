"""Every stack's resource URNs are the recorded ones (tests/snapshots/, `make snapshot`): a rename calls
for an alias, and an added or removed resource for a new snapshot, before a pull request passes."""

from __future__ import annotations

import pytest

from offline.plan import Plan
from offline.runner import stacks
from offline.urn_snapshot import PROJECTS, SNAPSHOT_DIR, differences, recorded, urn_lines
from tests.helpers import make_dry_run

SNAPSHOTS = [stack for project_dir in PROJECTS for stack in stacks(project_dir)]


@pytest.fixture
def stack_plans(plans, bootstrap) -> dict[str, Plan]:
    return {**plans, bootstrap.stack: bootstrap}


@pytest.mark.parametrize("stack", SNAPSHOTS)
def test_the_resources_urns_are_the_recorded_ones(stack, stack_plans):
    problem = differences(stack, recorded(stack), urn_lines(stack_plans[stack]))
    assert not problem, problem


def test_there_is_one_snapshot_per_stack_and_no_other():
    assert sorted(path.name for path in SNAPSHOT_DIR.iterdir()) == sorted(f"{stack}.urns.txt" for stack in SNAPSHOTS)


def test_a_rename_is_told_to_keep_the_deployed_resource_with_an_alias(plans):
    before = urn_lines(plans["dev"])
    site = next(line for line in before if line.endswith("::logic-app-site"))
    now = sorted([line for line in before if line != site] + [site.replace("::logic-app-site", "::logic-app-web")])
    message = differences("dev", before, now)
    assert f"Gone (`pulumi up` would delete these deployed resources):\n    {site}" in message
    assert ("azure-native:web:WebApp 'logic-app-web': opts=pulumi.ResourceOptions(aliases=[pulumi.Alias("
            "name='logic-app-site')])") in message
    assert "make snapshot" in message


def test_an_added_resource_is_told_to_be_recorded(plans):
    before = urn_lines(plans["dev"])
    message = differences("dev", before, sorted([*before, "azure-native:storage:StorageAccount::extra"]))
    assert "New (`pulumi up` would create these):\n    azure-native:storage:StorageAccount::extra" in message
    assert "record it with `make snapshot`" in message
    assert differences("dev", before, list(before)) == ""


def test_make_snapshot_writes_them():
    assert make_dry_run("snapshot")[-1].endswith("-m offline.urn_snapshot")
