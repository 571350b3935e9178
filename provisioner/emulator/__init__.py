"""The embedded AWS emulator: a moto server on 127.0.0.1 that the `local` environment targets.

`launcher` starts/reuses/stops the server process and keeps its record under `.provision/`; `server` is the
process itself (`python -m provisioner.emulator.server`), which applies the compatibility fixes in `compat`
before serving; `target` is the one seam the lifecycle calls: it turns a spec with `target: emulator` into the
environment variables (endpoint, test credentials, region) and the provider plugin dir Terraform and boto3 use.
"""

from __future__ import annotations

# moto's default account: the emulator's STS answers with it, so local specs allow exactly this account.
EMULATOR_ACCOUNT = "123456789012"
# The moto release the compatibility fixes were written against (pinned in pyproject.toml).
MOTO_VERSION = "5.2.5"
