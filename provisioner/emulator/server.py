"""The emulator process: `python -m provisioner.emulator.server --port N` applies the compatibility fixes to
moto, then serves every AWS service on 127.0.0.1:N (moto's own server, unchanged otherwise)."""

from __future__ import annotations

import argparse
import os


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m provisioner.emulator.server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    # AWS-managed policy ARNs (e.g. service-role policies) must resolve, as on AWS.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    # Where the functions the emulator runs send their AWS calls (compat.lambdas).
    os.environ["PROVISION_EMULATOR_ENDPOINT"] = f"http://{args.host}:{args.port}"
    from moto import server

    from provisioner.emulator.compat import apply_all

    apply_all()
    server.main(["--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    main()
