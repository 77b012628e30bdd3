"""The agent-obo policy pack (agent_obo_policies.py) and its offline harness (harness.py).

A package so that `python -m policy.harness` and the tests import it from the project root; the
Pulumi CLI runs the folder itself, through __main__.py, from its own virtualenv.
"""
