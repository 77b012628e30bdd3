"""The logic app's app settings, applied as one resource once everything they point at may be used.

The site is created without app settings and this resource (`Microsoft.Web/sites/config/appsettings`,
azure-native `web.WebAppApplicationSettings`) holds all of them, for three reasons:
- Order: a setting that routes traffic somewhere (a connection's runtime URL, the model endpoint,
  host storage) is written only after the access that traffic needs exists: each connection's access
  policy, the model and data role assignments, the runtime identity's storage roles. The access
  policies and role assignments name the site's system-assigned identity, which exists only once the
  site does, so settings on the site itself could only ever come first.
- Previews: a catalog change (new scopes, a tool switched off, a new package) changes app settings
  only. It updates this resource and leaves the site untouched, so the site's principal id stays
  known during the preview and nothing keyed on it (access policies, role assignments) previews as a
  replacement (azure-native previews every output of a resource updated in place as unknown).
- One writer: a PUT of config/appsettings replaces the whole set, and so does a site PUT that carries
  siteConfig.appSettings; a site PUT without appSettings leaves them as they are (pulumi/pulumi-azure-
  native#25, #1876). So the site carries none and this resource carries every one.
Microsoft's own pipeline samples set the connection settings after the site and the connections
exist, in the same order (Azure/logicapps github-sample and azure-devops-sample: `az functionapp
config appsettings set` after the connectors template). Deploy-verify: the host starts with no
settings for the seconds between the site's creation and this resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import web

from components.component import Component
from components.placement import Placement


@dataclass
class AppSettingsArgs:
    placement: Placement
    site_name: pulumi.Input[str]
    settings: Mapping[str, pulumi.Input[str]]
    # What must exist before any setting routes traffic: access policies, role assignments.
    after: Sequence[pulumi.Resource] = field(default_factory=list)


class AppSettings(Component[AppSettingsArgs], area="runtime"):
    """Every app setting of the site, as one resource written after the access the settings route to."""

    def _create(self, name: str, args: AppSettingsArgs) -> pulumi.Inputs:
        self.settings = web.WebAppApplicationSettings(
            f"{name}-appsettings",
            name=args.site_name,
            properties=dict(args.settings),
            **args.placement.in_group(self, depends_on=list(args.after)),
        )
        return {"names": sorted(args.settings)}
