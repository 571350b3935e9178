"""Command groups of the `provision` CLI, one module each (registered in provisioner/cli.py)."""
