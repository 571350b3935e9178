"""Command groups of the `provision` CLI, one module each."""
