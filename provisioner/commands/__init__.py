"""CLI command groups, one module each (registered in provisioner/cli.py)."""
