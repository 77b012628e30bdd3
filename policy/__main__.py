"""What the Pulumi CLI runs for `pulumi preview --policy-pack policy`: assembles the pack and serves it.

The CLI starts this folder as a script, so Python puts the folder itself first on sys.path. Instead the
pack is imported as the package `policy` of the project it belongs to, whose agent_obo/ derives what
each stack declares; no file of the folder stays importable top-level, where it could shadow a library.
A published bundle (policy/bundle.py) carries the project's packages beside this file instead.
A policy the stack explicitly relaxes in policy/config/<stack>.json takes that level here, from the pack's
own file, so no command line can relax one.
"""

import contextlib
import os
import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent
ROOT = PACK_DIR if (PACK_DIR / "policy" / "pack.py").is_file() else PACK_DIR.parent
sys.path[:] = [str(ROOT)] + [entry for entry in sys.path if Path(entry or ".").resolve() != PACK_DIR]

from pulumi_policy import PolicyPack  # noqa: E402 - imported from the fixed path

from policy.declared import Undeclared, pack_config_for  # noqa: E402
from policy.define import ENFORCEMENT_LEVEL  # noqa: E402
from policy.pack import PACK_NAME, POLICIES, relax  # noqa: E402

# An unreadable configuration leaves every policy mandatory; stack-declarations reports why.
with contextlib.suppress(Undeclared):
    relax(POLICIES, pack_config_for(os.environ.get("PULUMI_STACK", "")))

PolicyPack(name=PACK_NAME, enforcement_level=ENFORCEMENT_LEVEL, policies=POLICIES)
