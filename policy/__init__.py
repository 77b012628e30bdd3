"""The agent-obo CrossGuard policy pack: one module per area, assembled in pack.py, served by __main__.py.

Areas: connections (identity labels, access policies), graph (Microsoft Graph scopes and consent),
easy_auth, hardening (site, storage, model), tags. harness.py runs the same policies in-process
against the offline plans (`python -m policy.harness`), as the engine would hand them the resources.
"""
