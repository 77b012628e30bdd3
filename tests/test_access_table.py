"""docs/operations.md's identity table is the offline plans' own: regenerated, it must not change."""

from __future__ import annotations

from offline.access_table import BEGIN, DOC_PATH, END, access_rows, table_from_plans


def test_the_documented_table_is_what_the_plans_give(bootstrap, plans):
    document = DOC_PATH.read_text()
    documented = document[document.index(BEGIN):document.index(END) + len(END)]
    assert documented == table_from_plans(bootstrap, plans), "stale: run `make docs`"


def test_every_identity_of_every_plan_has_its_rows(bootstrap, plans):
    rows = access_rows(bootstrap, plans)
    identities = {row[0] for row in rows}
    for role in ("deploy", "preview"):
        assert f"{role} identity `id-agentobo-<env>-{role}-…`" in identities
    assert any(identity.startswith("runtime identity") for identity in identities)
    assert any(identity.startswith("site system identity") for identity in identities)
    assert any(identity.startswith("chat app") for identity in identities)
    for identity, who, what, where in rows:
        assert who and what and where, (identity, who, what, where)
        assert "subscription" not in where, f"{identity} holds {what} on a subscription"


def test_the_table_names_each_pipeline_identitys_one_github_environment(bootstrap, plans):
    for identity, who, _what, _where in access_rows(bootstrap, plans):
        if identity.startswith("deploy identity"):
            assert who.startswith("GitHub jobs of environment `<env>` "), who
        if identity.startswith("preview identity"):
            assert who.startswith("GitHub jobs of environment `<env>-preview` "), who
