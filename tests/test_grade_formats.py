"""Issue 25: hand answers graded in the graders' formats. For generated classes (each student's answers right, a
slip, carried forward from their own wrong answer, missing, of the wrong type, or unreadable), the graded CSV,
--json, Gradescope, PrairieLearn, JUnit and Markdown give the same points, and the points are the ones the
answers were built to earn under a generated `points:` block that names asked quantities without an `expect:`
block. Every file validates against the schemas the suite uses (backprop_cli/schemas). Writes go through -o:
never over an input, a results file per student with -o DIR.

Oracle: the status and points of each answer are decided here, when the answer is made (from the engine's truth
on the student's own version), not read back from the grader."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from schema_check import check_json, check_junit

import backprop_cli
from backprop_cli.fileformat.points import VISIBILITIES
from backprop_cli.fileformat.variants import asked, version

pytest.importorskip("jsonschema")
pytest.importorskip("xmlschema")

GRAPH = """\
name: drawn_circuit
inputs:
  x: {int: [-9, 9]}
  y: {uniform: [-9, 9], digits: 2}
  z: {choice: [-4, -2, -1.5, 0.5, 3]}
  w: {int: [-9, 9]}
nodes:
  q: x + y
  h: relu(q)
  f: h * z + w * x
output: f
require:
  - "q >= 1"
"""
SECRET = "course secret"


def points_block(rng: np.random.Generator, questions) -> tuple[str, dict, dict]:
    """A points: block naming every asked quantity under expect: (the file has no expect: block), some hidden."""
    worth, seen = {}, {}
    sections = {"values": [], "gradients": []}
    for column, kind, name in questions:
        worth[column] = float(rng.choice([0.5, 1, 2, 3]))
        seen[column] = str(rng.choice(VISIBILITIES))
        entry = f"{{points: {worth[column]}, visibility: {seen[column]}}}"
        sections["values" if kind == "value" else "gradients"].append(f"{name}: {entry}")
    text = "points:\n  default: 7\n  expect:\n" + "".join(f"    {s}: {{{', '.join(e)}}}\n" for s, e in sections.items())
    return text, worth, seen


def student_answers(rng: np.random.Generator, graph, student: str, questions) -> tuple[dict, dict, set]:
    """The CSV cells of one student's answers, the status each was made to have, the gradients of flipped sign."""
    mine = version(graph, student, SECRET)
    truth = {("value", n): float(v) for n, v in mine.forward().items()}
    truth |= {("gradient", n): float(g) for n, g in mine.backward().items()}
    cells, status, signs = {}, {}, set()
    for column, kind, name in questions:
        right = truth[(kind, name)]
        made = str(rng.choice(["right", "right", "sign", "missing", "shape"]))
        if made == "sign" and abs(right) < 0.1:
            made = "right"  # -0 is 0: no slip to make
        cells[column] = {"right": repr(right), "sign": repr(-right), "missing": "", "shape": f"[{right}, {right}]"}[
            made
        ]
        status[column] = {"right": "right", "sign": "wrong", "missing": "missing", "shape": "wrong"}[made]
        if made == "sign" and kind == "gradient":
            signs.add(column)
    if rng.random() < 0.5:  # a wrong dL/dh, and dL/dq computed right from it (the ReLU is alive: q >= 1)
        wrong = truth[("gradient", "h")] + float(rng.choice([0.5, 1.25, 2.5]))
        cells["grad(h)"], cells["grad(q)"] = repr(wrong), repr(wrong)
        status["grad(h)"], status["grad(q)"] = "wrong", "carried"
        for column in ("grad(x)", "grad(y)"):  # read by q: right or not answered, nothing to confuse the credit
            if status[column] == "wrong":
                cells[column], status[column] = repr(truth[("gradient", column[5:-1])]), "right"
                signs.discard(column)
        signs -= {"grad(h)", "grad(q)"}
    if rng.random() < 0.5:  # a wrong q, and h = relu(q) right from it
        wrong = truth[("value", "q")] + float(rng.choice([1, 2.5]))
        cells["q"], cells["h"], status["q"], status["h"] = repr(wrong), repr(wrong), "wrong", "carried"
    return cells, status, signs


@pytest.fixture
def a_class(tmp_path):
    """A generated class: the graph file with its points, the answers CSV, what each student should earn."""
    rng = np.random.default_rng(2025)
    plain = backprop_cli.loads(GRAPH, "g.yaml")
    questions = asked(plain, "both")
    text, worth, seen = points_block(rng, questions)
    graph_path = tmp_path / "hw.yaml"
    graph_path.write_text(GRAPH + text)
    graph = backprop_cli.load(graph_path)
    rows, expected = [], {}
    for k in range(8):
        student = f"s{k}"
        cells, status, signs = student_answers(rng, graph, student, questions)
        earned = sum(worth[c] for c, s in status.items() if s in ("right", "carried"))
        expected[student] = (earned, sum(worth.values()), status, signs)
        rows.append([student, *(cells[c] for c, _, _ in questions)])
    rows.append(["unreadable", *(["n/a"] + [""] * (len(questions) - 1))])  # not a number: not graded, not zero
    answers = tmp_path / "answers.csv"
    with answers.open("w", newline="") as stream:
        csv.writer(stream).writerows([["id", *(c for c, _, _ in questions)], *rows])
    return graph_path, answers, expected, seen


def _run(run, graph_path, answers, *options):
    return run("gradcheck", str(graph_path), "--secret", SECRET, "--answers", str(answers), "--blank", "both", *options)


def test_every_format_gives_the_points_the_answers_were_made_to_earn(run, a_class, tmp_path, monkeypatch):
    graph_path, answers, expected, seen = a_class
    made = {s for _, _, status, _ in expected.values() for s in status.values()}
    assert made == {"right", "wrong", "missing", "carried"} and any(signs for *_, signs in expected.values())
    monkeypatch.chdir(tmp_path)
    graded = _run(run, graph_path, answers)
    assert graded.exit_code == 1, graded.stderr  # not every student has full marks
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(graded.stdout))}
    assert rows.pop("unreadable")["points"] == ""  # not graded: its error instead
    for student, (earned, possible, status, _) in expected.items():
        row = rows[student]
        assert (float(row["points"]), float(row["max_points"])) == (earned, possible), student
        assert float(row["score"]) == pytest.approx(earned / possible, rel=1e-3)
        assert row["carried_forward"] == "; ".join(c for c, s in status.items() if s == "carried")

    document = json.loads(_run(run, graph_path, answers, "--json").stdout)
    check_json(document, "backprop.grade")
    by_student = {s["student"]: s for s in document["students"]}
    assert "error" in by_student.pop("unreadable")
    for student, (earned, possible, status, signs) in expected.items():
        made = by_student[student]
        assert (made["points"], made["max_points"]) == (earned, possible)
        assert {a["column"]: a["status"] for a in made["answers"]} == status
        assert signs <= {a["column"] for a in made["answers"] if a["slip"] == "sign"}  # the slip named

    for fmt in ("gradescope", "prairielearn", "markdown", "json"):
        written = _run(run, graph_path, answers, "--format", fmt, "-o", f"by_{fmt}", "-q")
        assert written.exit_code == 1 and written.stdout == "", written.stderr
    (tmp_path / "by_json").rename(tmp_path / "each_json")
    junit = _run(run, graph_path, answers, "-o", "class.xml", "-q")
    assert junit.exit_code == 1, junit.stderr
    check_junit(str(tmp_path / "class.xml"))
    suites = {s.get("name"): s for s in ET.parse(tmp_path / "class.xml").getroot().iter("testsuite")}
    assert suites.pop("unreadable").find("testcase/error") is not None

    for student, (earned, possible, status, _) in expected.items():
        gradescope = json.loads((tmp_path / "by_gradescope" / f"{student}.json").read_text())
        check_json(gradescope, "gradescope")
        assert gradescope["score"] == earned == sum(t["score"] for t in gradescope["tests"])
        assert sum(t["max_score"] for t in gradescope["tests"]) == possible
        assert [t["visibility"] for t in gradescope["tests"]] == list(seen.values())
        failed = [t for t in gradescope["tests"] if t["status"] == "failed"]
        assert len(failed) == sum(s in ("wrong", "missing") for s in status.values())
        prairielearn = json.loads((tmp_path / "by_prairielearn" / f"{student}.json").read_text())
        check_json(prairielearn, "prairielearn")
        assert prairielearn["gradable"] and prairielearn["score"] == pytest.approx(earned / possible)
        assert sum(t["points"] for t in prairielearn["tests"]) == earned
        suite = suites[student]
        properties = {p.get("name"): float(p.get("value")) for p in suite.iter("property")}
        assert (properties["score"], properties["possible"]) == (earned, possible)
        assert int(suite.get("failures")) == len(failed)
        markdown = (tmp_path / "by_markdown" / f"{student}.md").read_text()
        assert f"score {earned:g}/{possible:g}" in markdown
        one = json.loads((tmp_path / "each_json" / f"{student}.json").read_text())
        check_json(one, "backprop.grade")
        assert one["points"] == earned
    bad = json.loads((tmp_path / "by_prairielearn" / "unreadable.json").read_text())
    check_json(bad, "prairielearn")
    assert not bad["gradable"] and "answers.csv:" in bad["format_errors"][0]  # the student keeps the attempt
    bad = json.loads((tmp_path / "by_gradescope" / "unreadable.json").read_text())
    assert bad["tests"][0]["status"] == "failed" and bad["tests"][0]["visibility"] == "visible"


def test_one_students_answers_in_each_format_to_a_file(run, a_class, tmp_path, monkeypatch):
    graph_path, answers, expected, _ = a_class
    monkeypatch.chdir(tmp_path)
    row = next(csv.DictReader(io.StringIO(answers.read_text())))
    mine = tmp_path / "mine.json"  # an answers file may be JSON (YAML reads it)
    numbers = {c: json.loads(v) for c, v in row.items() if c != "id" and v}
    mine.write_text(
        json.dumps(
            {
                "values": {c: v for c, v in numbers.items() if not c.startswith("grad(")},
                "gradients": {c[5:-1]: v for c, v in numbers.items() if c.startswith("grad(")},
            }
        )
    )
    earned, possible, _, _ = expected[row["id"]]
    one = ("--student", row["id"])
    for fmt, name in (
        ("gradescope", "results.json"),
        ("prairielearn", "pl.json"),
        ("junit", "r.xml"),
        ("csv", "g.csv"),
    ):
        result = _run(run, graph_path, mine, *one, "--format", fmt, "-o", name)
        assert result.exit_code == int(earned < possible) and f"wrote {name}" in result.stderr, result.stderr
        assert f"{earned:g}/{possible:g} points" in result.stdout  # beside the file: the table
    assert json.loads((tmp_path / "results.json").read_text())["score"] == earned
    assert json.loads((tmp_path / "pl.json").read_text())["score"] == pytest.approx(earned / possible)
    assert float(next(csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text())))["points"]) == earned
    # never over an input: the answers file, the graph file
    before = mine.read_bytes()
    over = _run(run, graph_path, mine, *one, "--format", "gradescope", "-o", str(mine))
    assert over.exit_code == 2 and "which this run reads" in over.stderr and mine.read_bytes() == before
    over = _run(run, graph_path, answers, "-o", str(answers))
    assert over.exit_code == 2 and "which this run reads" in over.stderr
    # a results file is one submission's: a class's go to a folder
    refused = _run(run, graph_path, answers, "--format", "gradescope", "-o", "all.json")
    assert refused.exit_code == 2 and "-o DIR" in refused.stderr  # the file says so too, as a failed test
    assert json.loads((tmp_path / "all.json").read_text())["tests"][0]["status"] == "failed"
    unsaid = _run(run, graph_path, answers, "-o", "folder/")
    assert unsaid.exit_code == 2 and "--format" in unsaid.stderr and not (tmp_path / "folder").exists()


def test_an_unreadable_answers_file_is_not_gradable_in_the_graders_files(run, a_class, tmp_path, monkeypatch):
    graph_path, _, _, _ = a_class
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("gradients: {x: [1, 2\n")
    for fmt in ("prairielearn", "gradescope"):
        result = _run(run, graph_path, "bad.yaml", "--student", "s0", "--format", fmt, "-o", f"{fmt}.json")
        assert result.exit_code == 2 and "bad.yaml:1:" in result.stderr
        written = json.loads((tmp_path / f"{fmt}.json").read_text())
        check_json(written, fmt)
    assert not json.loads((tmp_path / "prairielearn.json").read_text())["gradable"]


@pytest.mark.parametrize(
    "entry, words",
    [
        ("values: {x: 2}", "'x' is not an answer the file asks for: the value of a node"),
        ("gradients: {f: 2}", "the gradient of a leaf or node of the file but the output"),
        ("gradients: {hh: 2}", "did you mean 'h'"),
        ("gradients: {q.1: 2}", "is not an answer the file asks for"),
    ],
)
def test_points_for_a_quantity_not_asked_is_refused_at_its_place(run, tmp_path, entry, words):
    path = tmp_path / "hw.yaml"
    line = f"  expect: {{{entry}}}"
    path.write_text(GRAPH + f"points:\n  default: 2\n{line}\n")
    where = f"{len(GRAPH.splitlines()) + 3}:{line.index('{', 12) + 2}"  # the name's line and column
    result = run("trace", str(path))
    assert result.exit_code == 2 and f"hw.yaml:{where}:" in result.stderr and words in result.stderr, result.stderr


@pytest.mark.parametrize(
    "block, worth",
    [
        ("points: {expect: 2}", {"q": 2, "grad(x)": 2}),  # a number for every answer, as for an expect: block
        ("points: {default: 3, expect: {gradients: {x: 0.5}}}", {"q": 3, "grad(x)": 0.5, "grad(h)": 3}),
        ("points: {expect: {values: {q: 4}}}\nexpect: {values: {q: 9}}", {"q": 4, "h": 1, "grad(x)": 1}),
    ],
)
def test_points_of_asked_quantities_with_and_without_an_expect_block(block, worth):
    from backprop_cli.verify.answer_grading import grade_answers

    graph = backprop_cli.loads(GRAPH + block + "\n", "hw.yaml")
    mine = version(graph, "s1", SECRET)
    grade = grade_answers(mine, {}, asked(graph, "both"), "s1")
    got = {item.column: item.max_points for item in grade.items}
    assert {column: got[column] for column in worth} == worth
    assert grade.score().possible == sum(got.values()) and grade.points == 0
