"""The fleet's aggregation: drift reports of many builds merged into one fleet report, notified on change."""
