"""What the Pulumi CLI runs for `pulumi preview --policy-pack policy`: assembles the pack and serves it.

The CLI starts this folder as a script, so Python puts the folder itself first on sys.path. Instead the
pack is imported as the package `policy` of the project it belongs to, whose agent_obo/ derives what
each stack declares; no file of the folder stays importable top-level, where it could shadow a library.
"""

import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent
sys.path[:] = [str(PACK_DIR.parent)] + [entry for entry in sys.path if Path(entry or ".").resolve() != PACK_DIR]

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402 - imported from the fixed path

from policy.pack import PACK_NAME, POLICIES  # noqa: E402

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
