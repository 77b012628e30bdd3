"""The ARM export the scanner reads, and the scan gate's verdicts (checkov itself runs in `make scan`,
from its own virtualenv; here a stand-in prints reports checkov's way)."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from agent_obo.health_workflow import HEALTH_CHECK_PATH
from offline.arm_export import SECRET, TYPES, arm_template
from offline.runner import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / "scripts"))
import scan

NOT_IN_ARM = ("azuread:", "random:", "pulumi-python:dynamic:", "azure-native:resources:ResourceGroup")


def by_type(template: dict, arm_type: str) -> list[dict]:
    return [r for r in template["resources"] if r["type"] == arm_type]


def test_every_azure_resource_of_every_stack_is_exported(plan):
    template = arm_template(plan)
    expected = [r for r in plan.resources if not r.type.startswith(NOT_IN_ARM)]
    missing = sorted({r.type for r in expected if r.type not in TYPES and r.type != "azure-native:resources:Resource"})
    assert not missing, f"azure-native types with no ARM form in offline/arm_export.py: {missing}"
    assert len(template["resources"]) == len(expected)
    assert len({(r["type"], r.get("scope"), r["name"]) for r in template["resources"]}) == len(expected)  # unique


def test_export_speaks_arm(plans):
    template = arm_template(plans["prod"])
    (account,) = by_type(template, "Microsoft.Storage/storageAccounts")
    assert account["sku"] == {"name": "Standard_ZRS"} and account["kind"] == "StorageV2"
    assert account["properties"]["networkAcls"]["defaultAction"] == "Deny"  # ARM's name for networkRuleSet
    assert account["properties"]["supportsHttpsTrafficOnly"] is True
    assert "accountName" not in account["properties"] and "resourceGroupName" not in account["properties"]
    (site,) = by_type(template, "Microsoft.Web/sites")
    assert site["properties"]["siteConfig"]["healthCheckPath"] == HEALTH_CHECK_PATH
    assert isinstance(site["identity"]["userAssignedIdentities"], dict)  # ARM keys them by resource id
    (model,) = by_type(template, "Microsoft.CognitiveServices/accounts")
    assert model["properties"]["publicNetworkAccess"] == "Disabled" and model["identity"]["type"] == "SystemAssigned"
    subnets = {r["name"] for r in by_type(template, "Microsoft.Network/virtualNetworks/subnets")}
    assert all(name.count("/") == 1 for name in subnets)
    locks = by_type(template, "Microsoft.Authorization/locks")
    assert {lock["properties"]["level"] for lock in locks} == {"CanNotDelete"} and all(lock["scope"] for lock in locks)
    connections = by_type(template, "Microsoft.Web/connections")
    assert connections and all(c["apiVersion"] in ("2016-06-01", "2018-07-01-preview") for c in connections)


def test_export_writes_no_secret(access_key_plans):
    plan = access_key_plans["prod"]
    text = json.dumps(arm_template(plan))
    assert "AccountKey=" not in text
    (settings,) = [r for r in arm_template(plan)["resources"] if r["name"].endswith("/appsettings")]
    assert settings["properties"]["AzureWebJobsStorage"] == SECRET


# --- the gate ----------------------------------------------------------------------------------------------

def fake_checkov(tmp_path: Path, failed: list[tuple[str, str]]) -> Path:
    report = {"check_type": "arm", "summary": {"passed": 1, "failed": len(failed), "resource_count": 1,
                                               "checkov_version": "stand-in"},
              "results": {"failed_checks": [{"check_id": c, "resource": r, "check_name": c} for c, r in failed]}}
    script = tmp_path / "checkov"
    script.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(report))})\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


PROD_SITE = "Microsoft.Web/sites.logic-agentobo-prod-45bd3b"


def test_only_documented_failures_pass_the_gate(tmp_path, capsys):
    justified = [("CKV_AZURE_17", PROD_SITE), ("CKV_AZURE_36", "Microsoft.Storage/storageAccounts.st1"),
                 ("CKV_AZURE_63", "Microsoft.Web/sites/config.logic-agentobo-prod-45bd3b/appsettings")]
    assert scan.main(["prod", "--checkov", str(fake_checkov(tmp_path, justified))]) == 0
    unjustified = [*justified, ("CKV_AZURE_35", "Microsoft.Storage/storageAccounts.st1")]
    assert scan.main(["prod", "--checkov", str(fake_checkov(tmp_path, unjustified))]) == 1
    assert "FAILED     CKV_AZURE_35" in capsys.readouterr().out


def test_a_false_positive_is_excused_only_where_it_is_false(tmp_path):
    # The config/web checks are excused on appsettings and authsettingsV2 only, not on the site's web config.
    web_config = [("CKV_AZURE_63", "Microsoft.Web/sites/config.logic-agentobo-prod-45bd3b/web")]
    assert scan.main(["prod", "--checkov", str(fake_checkov(tmp_path, web_config))]) == 1


@pytest.mark.parametrize("check", ["CKV_AZURE_35", "CKV_AZURE_59", "CKV_AZURE_134", "CKV_AZURE_225"])
def test_what_dev_declares_is_excused_on_dev_only(tmp_path, check):
    resource = {"CKV_AZURE_134": "Microsoft.CognitiveServices/accounts.oai",
                "CKV_AZURE_225": "Microsoft.Web/serverfarms.asp"}.get(check, "Microsoft.Storage/storageAccounts.st")
    checkov = str(fake_checkov(tmp_path, [(check, resource)]))
    assert scan.main(["dev", "--checkov", checkov]) == 0
    assert scan.main(["prod", "--checkov", checkov]) == 1


def test_missing_checkov_says_how_to_get_it(tmp_path, capsys):
    assert scan.main(["prod", "--checkov", str(tmp_path / "nothing")]) == 2
    assert "make scan" in capsys.readouterr().err


def test_docs_give_every_justification():
    text = (PROJECT_DIR / "docs" / "scan.md").read_text()
    for check, _, _ in {**scan.JUSTIFIED, **scan.DECLARED_PUBLIC, **scan.DECLARED_ONE_ZONE}:
        assert check in text, f"docs/scan.md does not justify {check}"
