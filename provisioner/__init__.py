"""provision: render, check and apply an AWS DevSecOps stack with Terraform."""

__version__ = "0.1.0"
