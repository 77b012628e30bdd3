"""The environments this repository deploys, as the bootstrap (bootstrap/) needs to know them.

One environment per stack file. The bootstrap creates each one's resource group and pipeline
identities before the program's first `pulumi up`, so it takes the list, each group's name
(agent_obo/naming.py: the name the program looks for) and what the deploy identity must be able to
do there from the stack files themselves: a new Pulumi.<stack>.yaml gets its group and identities at
the next bootstrap update, and nothing is kept in step by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent_obo.errors import SettingsError
from agent_obo.naming import names_for
from agent_obo.settings import BOOLEANS, ENVIRONMENT, PROJECT, RULES
from agent_obo.stack_files import stack_config, stack_values, stacks
from agent_obo.yaml_files import PROJECT_DIR


@dataclass(frozen=True)
class Environment:
    name: str  # the stack name
    location: str
    delete_locks: bool  # protectStatefulResources: its deploy identity manages Azure delete locks

    def resource_group(self, subscription_id: str) -> str:
        return names_for(subscription_id, self.name, self.location).resource_group


def environments(project_dir: Path = PROJECT_DIR) -> list[Environment]:
    """Every stack file's environment, with the two settings the bootstrap reads, checked as the
    program checks them (agent_obo/settings.py)."""
    found, problems = [], []
    for stack in stacks(project_dir):
        config = stack_config(stack_values(stack, PROJECT, project_dir) or {}, project_dir)
        location = config.get(f"{PROJECT}:location", "")
        protect = config.get(f"{PROJECT}:protectStatefulResources", "")
        if not ENVIRONMENT.fullmatch(stack):
            problems.append(f"Pulumi.{stack}.yaml: stack name {stack!r} is not an environment name "
                            "(2-8 lower-case letters or digits, starting with a letter)")
        if not RULES["location"].accepts(location):
            problems.append(f"Pulumi.{stack}.yaml: {PROJECT}:location = {location!r}; {RULES['location'].describe()}")
        if protect not in BOOLEANS:
            problems.append(f"Pulumi.{stack}.yaml: {PROJECT}:protectStatefulResources = {protect!r}; allowed: "
                            "true or false")
        if not problems:
            found.append(Environment(stack, location, BOOLEANS[protect]))
    if problems or not found:
        raise SettingsError("the repository's environments cannot be read", problems or [
            f"no Pulumi.<stack>.yaml in {project_dir}: every environment is a stack file"])
    return found
