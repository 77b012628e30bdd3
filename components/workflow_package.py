"""The workflow files, shipped as one immutable package that the site runs from.

The zip is built before any resource is registered (agent_obo.package); here it is uploaded to the
private package container under a name derived from its content, so a changed workflow is a new
blob (the site's WEBSITE_RUN_FROM_PACKAGE changes with it) and an unchanged one changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from agent_obo.package import Package
from components.component import Component
from components.package_blob import PackageBlob
from components.role_ids import STORAGE_BLOB_DATA_CONTRIBUTOR, role_definition_id


@dataclass
class WorkflowPackageArgs:
    package: Package
    blob_endpoint: pulumi.Input[str]
    container_name: pulumi.Input[str]
    container_id: pulumi.Input[str]
    subscription_id: str
    deployer_object_id: str
    deployer_principal_type: str  # a person (az login) or the pipeline's identity


class WorkflowPackage(Component[WorkflowPackageArgs], area="workflows"):
    """The workflow package blob, uploaded with the deployer's own identity once it may write there."""

    def _create(self, name: str, args: WorkflowPackageArgs) -> pulumi.Inputs:
        # Whoever runs `pulumi up` writes the package with their own Entra identity, so they need
        # data access to this one container; nothing broader.
        self.deployer_access = authorization.RoleAssignment(
            f"{name}-deployer-upload",
            scope=args.container_id,
            principal_id=args.deployer_object_id,
            # Azure rejects an assignment whose principalType does not match the principal, and
            # the SDK would send "User" for the pipeline's service principal too.
            principal_type=args.deployer_principal_type,
            role_definition_id=role_definition_id(args.subscription_id, STORAGE_BLOB_DATA_CONTRIBUTOR),
            description="Deploying identity uploads workflow packages",
            opts=self._child_options(),
        )
        self.blob = PackageBlob(
            f"{name}-blob",
            blob_endpoint=args.blob_endpoint,
            container=args.container_name,
            blob_name=args.package.blob_name,
            content=args.package.content,
            opts=self._child_options(depends_on=[self.deployer_access]),
        )
        self.url = self.blob.url
        self.sha256 = args.package.sha256
        return {"url": self.url, "sha256": self.sha256}
