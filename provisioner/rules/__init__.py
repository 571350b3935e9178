"""Sigma detection rules: catalogue loader, local evaluator, OpenSearch monitor compiler, coverage."""

from provisioner.rules.compile import build_monitors
from provisioner.rules.loader import load_catalogue

__all__ = ["build_monitors", "load_catalogue"]
