"""OpenSearch content as code: index templates, ISM retention, FGAC roles, the alert channel, Dashboards saved
objects and monitors, built on the host and applied in the VPC by the `opensearch_configurator` Lambda."""
