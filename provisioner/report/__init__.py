"""Every output format of the tool (text, JSON, Markdown, JUnit) for plan summaries, drift and scans.

Result objects own their data and verdicts (`to_json`, `ok`, `exit_code`); how they read to a person or a CI
system is decided here, with one set of helpers (`common`, `junit`).
"""

# What `--report-dir` receives (lifecycle._write_scan_reports, provisioner/report/plan.py write_plan_summary).
REPORT_FILES = ("checkov.json", "checkov.junit.xml", "checkov.sarif", "plan-summary.json", "plan-summary.md")
