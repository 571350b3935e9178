"""One JUnit XML writer for every report that CI systems read as test results (drift, Checkov)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from xml.etree import ElementTree as ET

from provisioner.ui import one_line, printable

Outcome = Literal["ok", "failure", "error", "skipped"]


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    outcome: Outcome = "ok"
    message: str = ""
    body: str = ""
    type: str = ""


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)
    seconds: float | None = None
    tests: int | None = None  # when more checks ran than are listed as cases (Checkov lists only non-passes)

    def counts(self) -> dict[str, int]:
        outcomes = [c.outcome for c in self.cases]
        return {
            "tests": len(self.cases) if self.tests is None else self.tests,
            "failures": outcomes.count("failure"),
            "errors": outcomes.count("error"),
            "skipped": outcomes.count("skipped"),
        }


def to_xml(title: str, suites: list[Suite]) -> str:
    root = ET.Element("testsuites", name=title)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        element = ET.SubElement(root, "testsuite", name=one_line(suite.name))
        if suite.seconds is not None:
            element.set("time", f"{suite.seconds:.2f}")
        for key, value in suite.counts().items():
            element.set(key, str(value))
            totals[key] += value
        for case in suite.cases:
            _case(element, case)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case(suite: ET.Element, case: Case) -> None:
    # Control characters are not allowed in XML 1.0: escaped, so the report stays readable by every CI system.
    element = ET.SubElement(suite, "testcase", classname=one_line(case.classname), name=one_line(case.name))
    if case.outcome == "ok":
        return
    detail = ET.SubElement(element, case.outcome, message=one_line(case.message))
    if case.type:
        detail.set("type", one_line(case.type))
    if case.body:
        detail.text = printable(case.body)
