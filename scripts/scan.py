"""An independent scanner's verdict on a stack: checkov's Azure (ARM) checks on the plan's ARM export.

Every failure must be one docs/scan.md justifies (JUSTIFIED below, with the reason); anything else
fails the command, so a change that weakens a resource shows up here too, judged by rules this
project did not write.

    make scan STACK=prod        # the export, then checkov from its own virtualenv (build/scan-venv)
    .venv/bin/python scripts/scan.py prod --checkov build/scan-venv/bin/checkov

Exit codes: 0 only justified failures, 1 an unjustified failure (or the export failed), 2 checkov missing.
checkov runs offline (--skip-download): no guideline download, no telemetry.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from offline.arm_export import main as export  # noqa: E402

SITE_CONFIG_FALSE_POSITIVE = (
    "checkov applies its config/web checks to every Microsoft.Web/sites/config resource; this one is the "
    "site's {name}, which never carries that property (the site's own settings are on the site)")

# (check id, ARM type, name suffix) -> why the failure stands. docs/scan.md gives the same reasons.
JUSTIFIED: dict[tuple[str, str, str], str] = {
    ("CKV_AZURE_206", "Microsoft.Storage/storageAccounts", ""): (
        "Standard_ZRS is what Learn requires for a zone-redundant Standard logic app; geo-replication would "
        "copy run history to a region where no logic app runs"),
    ("CKV_AZURE_36", "Microsoft.Storage/storageAccounts", ""): (
        "no trusted-service bypass on purpose: the site comes through private endpoints and the deployer "
        "through storageFirewallIpRanges; a bypass would only admit services this stack does not use"),
    ("CKV_AZURE_16", "Microsoft.Web/sites", ""): (
        "false positive: the check accepts identity type SystemAssigned or UserAssigned alone; the site has "
        "both ('SystemAssigned, UserAssigned'): the model connection needs the system-assigned identity"),
    ("CKV_AZURE_222", "Microsoft.Web/sites", ""): (
        "publicIngress true (the default): chat users reach the agent from browsers, behind Easy Auth; "
        "publicIngress false closes it and the check passes"),
    ("CKV_AZURE_17", "Microsoft.Web/sites", ""): (
        "client certificates on a browser-facing endpoint: chat users' browsers present none; Easy Auth "
        "(Microsoft Entra ID) authenticates every request"),
    ("CKV_AZURE_212", "Microsoft.Web/sites", ""): (
        "numberOfWorkers is for dedicated plans; on the elastic Workflow Standard plan the minimum is "
        "sku.capacity and minimumElasticInstanceCount (3 in prod, checked by the zone-redundancy policy)"),
    **{(check, "Microsoft.Web/sites/config", f"/{name}"): SITE_CONFIG_FALSE_POSITIVE.format(name=name)
       for check in ("CKV_AZURE_13", "CKV_AZURE_63", "CKV_AZURE_65", "CKV_AZURE_66", "CKV_AZURE_80",
                     "CKV_AZURE_88", "CKV_AZURE_222")
       for name in ("appsettings", "authsettingsV2")},
}


# Failures a stack asks for by what it declares (dev: public endpoints, one zone).
DECLARED_PUBLIC: dict[tuple[str, str, str], str] = {
    (check, kind, ""): "the stack declares privateNetworking false (public endpoints; prod declares true)"
    for check, kind in (("CKV_AZURE_35", "Microsoft.Storage/storageAccounts"),
                        ("CKV_AZURE_59", "Microsoft.Storage/storageAccounts"),
                        ("CKV_AZURE_134", "Microsoft.CognitiveServices/accounts"))}
DECLARED_ONE_ZONE = {("CKV_AZURE_225", "Microsoft.Web/serverfarms", ""): (
    "the stack declares zoneRedundant false (prod declares true)")}


def declared_justifications(stack: str) -> dict[tuple[str, str, str], str]:
    from agent_obo.catalog import load_catalog
    from agent_obo.settings import load_settings
    from agent_obo.tool_inputs import setting_rules
    from offline.runner import stack_config, stack_file

    settings = load_settings(stack_config(stack_file(stack).get("config") or {}), stack,
                             tool_settings=setting_rules(load_catalog()))
    found: dict[tuple[str, str, str], str] = {}
    if settings.network is None:
        found.update(DECLARED_PUBLIC)
    if not settings.zone_redundant:
        found.update(DECLARED_ONE_ZONE)
    return found


def justification(check_id: str, resource: str,
                  justified: dict[tuple[str, str, str], str] = JUSTIFIED) -> str | None:
    """resource is checkov's `<ARM type>.<name>`."""
    for (check, kind, suffix), reason in justified.items():
        if check == check_id and resource.startswith(kind + ".") and "/" not in resource[len(kind) + 1:].replace(
                suffix, "", 1) and resource.endswith(suffix):
            return reason
    return None


def run_checkov(checkov: str, template: Path) -> dict:
    environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run([checkov, "--file", str(template), "--framework", "arm", "--skip-download",
                           "--quiet", "--compact", "--output", "json"],
                          capture_output=True, text=True, env=environment)
    if not done.stdout.strip():
        raise RuntimeError(f"checkov printed nothing (exit {done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--checkov", default=str(ROOT / "build" / "scan-venv" / "bin" / "checkov"))
    args = parser.parse_args(argv)
    if not Path(args.checkov).exists():
        print(f"error: no checkov at {args.checkov}; `make scan` installs it into build/scan-venv", file=sys.stderr)
        return 2
    template = ROOT / "build" / args.stack / "arm-template.json"
    if export([args.stack, "--output", str(template)]) != 0:
        return 1
    report = run_checkov(args.checkov, template)
    justified = {**JUSTIFIED, **declared_justifications(args.stack)}
    summary = report.get("summary", {})
    failed = report.get("results", {}).get("failed_checks", [])
    unjustified = []
    print(f"checkov {summary.get('checkov_version')} on {template.relative_to(ROOT)}: "
          f"{summary.get('passed')} passed, {summary.get('failed')} failed, {summary.get('resource_count')} resources")
    for check in sorted(failed, key=lambda c: (c["check_id"], c["resource"])):
        reason = justification(check["check_id"], check["resource"], justified)
        print(f"  {'justified' if reason else 'FAILED   '}  {check['check_id']}  {check['resource']}")
        if reason is None:
            unjustified.append(check)
            print(f"             {check.get('check_name')}")
    if unjustified:
        print(f"error: {len(unjustified)} failure(s) docs/scan.md does not justify", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
