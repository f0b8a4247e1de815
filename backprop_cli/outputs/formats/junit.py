"""JUnit XML, as GitLab's unit test reports and GitHub's test-report actions read it: <testsuites> with one
<testsuite> per graph file (name, tests, failures, errors, skipped, time; the score as properties) and one
<testcase> per graded part (classname, name, file, time) holding <failure> (a wrong gradient or answer), <error>
(the file could not be checked) and <system-out> (what was found). Valid against the shape of Jenkins'
junit-10.xsd, with the testcase's file attribute GitLab reads: backprop_cli/schemas/junit.xsd. The job's status
still follows backprop's exit code."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ...errors import printable_lines
from ..score_text import part_lines, part_title, points_text
from . import Settings


def _text(text: str) -> str:
    """XML 1.0 has no control characters but tab and newline: printable_lines shows every other as an escape."""
    return printable_lines(text)


def _suite(root: ET.Element, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(root, "testsuite", name=_text(name), time=f"{seconds:.3f}")


def _count(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
    suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
    suite.set("skipped", "0")


def _properties(suite: ET.Element, values: dict) -> None:
    properties = ET.SubElement(suite, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=str(value))


def gradcheck(result, settings: Settings) -> str:
    root = ET.Element("testsuites", name="backprop gradcheck")
    for checked in result.files:
        suite = _suite(root, checked.name, checked.seconds)
        classname = f"backprop.gradcheck.{checked.name}"
        score = checked.score
        if score is not None:
            _properties(suite, {"score": score.earned, "possible": score.possible, "fraction": score.fraction})
        if score is None or not score.parts and checked.failure is not None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="checking", file=checked.path, time="0")
            error = ET.SubElement(case, "error", message=_text(checked.failure.line), type="not gradable")
            error.text = _text(checked.failure.message)
        else:
            for part in score.parts:
                case = ET.SubElement(
                    suite, "testcase", classname=classname, name=_text(part.label), file=checked.path, time="0"
                )
                lines = "\n".join(part_lines(part))
                if not part.passed:
                    failure = ET.SubElement(case, "failure", message=_text(part_title(part)), type=part.kind)
                    failure.text = _text(lines)
                ET.SubElement(case, "system-out").text = _text(
                    f"{part_title(part)}\n{lines}".rstrip() + f"\npoints {points_text(part.earned, part.points)}"
                )
        _count(suite)
    for name in ("tests", "failures", "errors"):
        root.set(name, str(sum(int(s.get(name)) for s in root.findall("testsuite"))))
    root.set("time", f"{result.seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def grade(result, settings: Settings):
    """Hand answers graded (gradcheck --answers): each student's grade as gradcheck's result, a part per asked
    quantity (verify/answer_grading.py Grades.checks), in the same JUnit XML as a gradcheck's."""
    return gradcheck(result.checks(), settings)


def error(result, settings: Settings) -> str:
    """A run that stopped before any file was checked: one testcase with an <error>."""
    root = ET.Element("testsuites", name="backprop gradcheck", tests="1", failures="0", errors="1", time="0")
    suite = _suite(root, f"backprop {result.command}", 0.0)
    case = ET.SubElement(suite, "testcase", classname=f"backprop.{result.command}", name="run", time="0")
    where = result.where.file if result.where is not None and result.where.file else None
    if where:
        case.set("file", where)
    ET.SubElement(case, "error", message=_text(result.message), type=f"exit {result.exit_code}").text = _text(
        result.message
    )
    _count(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
