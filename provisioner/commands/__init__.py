"""Command groups of the `provision` CLI, one module per group."""
