"""The package upload's provider, driven directly with a stand-in for the blob container client
(its code runs only in a real deployment, never under the mocks)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from components.package_blob import PackageBlobProvider
from offline.runner import PROJECT_DIR

CONTENT = b"PK\x03\x04 package bytes"
PROPS = {
    "blob_endpoint": "https://stagentobodev123456.blob.core.windows.net/",
    "container": "workflow-packages",
    "blob_name": "workflows-0123456789abcdef0123.zip",
    "sha256": hashlib.sha256(CONTENT).hexdigest(),
    "content_base64": base64.b64encode(CONTENT).decode(),
}


class FakeContainer:
    def __init__(self, forbidden_uploads: int = 0, error_code: str = "AuthorizationPermissionMismatch"):
        self.forbidden_uploads = forbidden_uploads
        self.error_code = error_code
        self.blobs: dict[str, bytes] = {}
        self.calls: list[str] = []

    def upload_blob(self, name, data, overwrite, content_settings):
        self.calls.append("upload")
        if self.forbidden_uploads:
            self.forbidden_uploads -= 1
            error = HttpResponseError(message=self.error_code)
            error.status_code = 403
            error.error_code = self.error_code
            raise error
        assert overwrite is True and content_settings.content_type == "application/zip"
        self.blobs[name] = data

    def delete_blob(self, name):
        self.calls.append("delete")
        if name not in self.blobs:
            raise ResourceNotFoundError("BlobNotFound")
        del self.blobs[name]


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def provider(container: FakeContainer, clock: Clock | None = None) -> PackageBlobProvider:
    clock = clock or Clock()
    seen = {}

    def factory(endpoint, name):
        seen["where"] = (endpoint, name)
        return container

    p = PackageBlobProvider(container_client=factory, sleep=clock.sleep, clock=lambda: clock.now)
    p.seen = seen
    return p


def test_create_uploads_the_bytes_and_reports_the_blob_url():
    container = FakeContainer()
    blob_provider = provider(container)
    result = blob_provider.create(dict(PROPS))
    assert container.blobs == {PROPS["blob_name"]: CONTENT}
    assert blob_provider.seen["where"] == (PROPS["blob_endpoint"], "workflow-packages")
    expected = "https://stagentobodev123456.blob.core.windows.net/workflow-packages/" + PROPS["blob_name"]
    assert result.id == expected and result.outs["url"] == expected


def test_create_waits_out_role_assignment_propagation():
    container, clock = FakeContainer(forbidden_uploads=3), Clock()
    provider(container, clock).create(dict(PROPS))
    assert container.calls == ["upload"] * 4
    assert clock.sleeps == [15] * 3  # every 15 seconds


def documented_window_seconds() -> int:
    """How long README says the upload retries 403s ("the upload retries 403s for 10 minutes")."""
    text = " ".join((PROJECT_DIR / "README.md").read_text().split())
    found = re.search(r"the upload retries 403s for (\d+) minutes", text)
    assert found, "README no longer says how long the package upload waits for its role"
    return int(found.group(1)) * 60


def test_create_gives_up_after_the_documented_propagation_window():
    container, clock = FakeContainer(forbidden_uploads=10_000), Clock()
    with pytest.raises(HttpResponseError):
        provider(container, clock).create(dict(PROPS))
    window = documented_window_seconds()
    assert window <= clock.now < window + 60


def test_create_refuses_content_that_does_not_match_its_hash():
    with pytest.raises(ValueError, match="does not match its sha256"):
        provider(FakeContainer()).create({**PROPS, "sha256": "0" * 64})


def test_any_change_of_place_or_content_replaces_create_before_delete():
    blob_provider = provider(FakeContainer())
    assert blob_provider.diff("id", dict(PROPS), dict(PROPS)).changes is False
    changed = blob_provider.diff("id", dict(PROPS), {**PROPS, "blob_name": "workflows-ffff.zip", "sha256": "f" * 64})
    assert changed.changes is True
    assert set(changed.replaces) == {"blob_name", "sha256"}
    assert changed.delete_before_replace is False


def test_delete_removes_the_blob_and_tolerates_it_being_gone():
    container = FakeContainer()
    blob_provider = provider(container)
    blob_provider.create(dict(PROPS))
    blob_provider.delete("id", dict(PROPS))
    assert container.blobs == {}
    blob_provider.delete("id", dict(PROPS))  # already gone: nothing to do


def test_the_recorded_provider_unpickles_in_a_fresh_process_from_the_project_directory(plans):
    """What the dynamic-provider host does at `pulumi up`: `python -m pulumi.dynamic` runs in the
    project directory and unpickles the provider the program serialized."""
    import subprocess
    import sys

    from offline.runner import PROJECT_DIR

    pickled = plans["dev"].one("pulumi-python:dynamic:Resource").inputs["__provider"]
    code = ("import base64, sys, dill; provider = dill.loads(base64.b64decode(sys.stdin.read())); "
            "print(type(provider).__module__, type(provider).__name__)")
    result = subprocess.run([sys.executable, "-c", code], input=pickled, cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["components.package_blob", "PackageBlobProvider"]


def test_a_storage_firewall_refusal_fails_at_once():
    # privateNetworking without the deploying machine's IP in storageFirewallIpRanges: no amount of
    # waiting helps, so the upload does not sit out the role-assignment retry window.
    container = FakeContainer(forbidden_uploads=100, error_code="AuthorizationFailure")
    clock = Clock()
    with pytest.raises(HttpResponseError, match="AuthorizationFailure"):
        provider(container, clock).create(dict(PROPS))
    assert container.calls == ["upload"] and clock.sleeps == []
