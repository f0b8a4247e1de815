"""Points, the score and the graders' result files (issue 23): for the same graph and student module, the plain
verdict, --json, Gradescope, PrairieLearn and JUnit agree on the score; each file is valid against the
platform's documented shape (backprop_cli/schemas: JSON Schema, and an XSD for JUnit XML); a wrong submission
scores less than full marks, a malformed one is ungradable, not zero."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from schema_check import check_json, check_junit

import backprop_cli
from backprop_cli.outputs.formats import Settings, present
from backprop_cli.verify.grading import Checks, grade

jsonschema = pytest.importorskip("jsonschema")
xmlschema = pytest.importorskip("xmlschema")

PLUGINS = Path(__file__).parent / "plugins"
BUGS = {  # op -> the student's backward: right, and the classic bugs layers.py keeps
    "right": {},
    "relu_wrong_side": {"relu_layer": "relu_backward_wrong_side"},
    "bias_mean": {"affine": "affine_backward_bias_mean"},
    "no_transpose": {"affine": "affine_backward_no_transpose"},
}


def _submission(folder: Path, bug: str, points: str = "") -> Path:
    """net.yaml with the student's layers.py, one backward swapped for a buggy one, and a points: block."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGINS / "layers.py", folder / "layers.py")
    text = (PLUGINS / "net.yaml").read_text()
    for op, backward in BUGS[bug].items():
        right = {"affine": "affine_backward", "relu_layer": "relu_backward"}[op]
        text = text.replace(f"backward: {right},", f"backward: {backward},", 1)
    path = folder / "net.yaml"
    path.write_text(text + points)
    return path


def _points(rng: np.random.Generator) -> str:
    leaves = {name: int(rng.integers(0, 4)) for name in ("x", "w1", "b1", "w2", "b2")}
    ops = {name: int(rng.integers(1, 6)) for name in ("affine", "relu_layer", "softmax_loss")}
    shown = lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"  # noqa: E731
    return f"points:\n  leaves: {shown(leaves)}\n  ops: {shown(ops)}\n"


def _formats(run: Checks) -> dict:
    return {
        fmt: present("gradcheck", fmt, run, Settings(fmt)) for fmt in ("json", "gradescope", "prairielearn", "junit")
    }


def _junit_score(text: str) -> tuple[float, float]:
    suite = ET.fromstring(text).find("testsuite")
    properties = {p.get("name"): float(p.get("value")) for p in suite.iter("property")}
    return properties["score"], properties["possible"]


@pytest.mark.parametrize("bug", list(BUGS))
def test_every_format_gives_the_same_score_and_each_is_valid(tmp_path, bug):
    rng = np.random.default_rng(len(bug))
    graph = backprop_cli.load(_submission(tmp_path, bug, _points(rng)), allow_python=True)
    report = backprop_cli.gradcheck(graph)
    score = grade(graph, report)
    out = _formats(Checks.of(graph, report))
    # the points: each graded part's points from the file, earned only where its check passed
    declared = graph.points
    graded_leaves = [e["points"] for name, e in declared["leaves"].items() if name != "y"]  # y: labels, no gradient
    expected = sum(graded_leaves) + sum(e["points"] for e in declared["ops"].values())
    assert score.possible == expected and 0 <= score.earned <= score.possible
    assert (score.earned == score.possible) == (bug == "right") == report.passed
    wrong_ops = {part.name for part in score.parts if part.kind == "op" and not part.passed}
    assert wrong_ops == set(BUGS[bug])  # the op with the bug, and only it, loses its points
    gradescope, prairielearn = out["gradescope"].data, out["prairielearn"].data
    check_json(gradescope, "gradescope")
    check_json(prairielearn, "prairielearn")
    check_junit(out["junit"])
    assert gradescope["score"] == score.earned == out["json"].data["score"]["earned"]
    assert sum(t["score"] for t in gradescope["tests"]) == score.earned
    assert sum(t["max_score"] for t in gradescope["tests"]) == score.possible
    assert prairielearn["gradable"] and prairielearn["score"] == pytest.approx(score.earned / score.possible)
    assert sum(t["points"] for t in prairielearn["tests"]) == score.earned
    assert _junit_score(out["junit"]) == (score.earned, score.possible)
    failures = ET.fromstring(out["junit"]).findall(".//failure")
    assert len(failures) == sum(not p.passed for p in score.parts)


def test_the_command_line_writes_each_format_with_the_same_score(run, tmp_path, monkeypatch):
    """-o FILE in each format; the table's score line; the exit code still says the verdict (1: wrong)."""
    path = _submission(
        tmp_path, "relu_wrong_side", "points:\n  leaves: {x: 0}\n  ops: {relu_layer: {points: 4, visibility: hidden}}\n"
    )
    monkeypatch.chdir(tmp_path)
    table = run("gradcheck", str(path), "--allow-python")
    assert table.exit_code == 1 and "FAIL plugin op relu_layer (its backward alone) (0/4)" in table.stdout
    line = table.stdout.strip().splitlines()[-1]  # w1, b1 wrong (relu's mask): 2/4 leaves; 2/6 for the ops
    assert line.startswith("score 4/10 (40%)"), line
    for fmt, name in (("gradescope", "results.json"), ("prairielearn", "pl.json"), ("junit", "report.xml")):
        result = run("gradcheck", str(path), "--allow-python", "--format", fmt, "-o", name, "-q")
        assert result.exit_code == 1 and result.stdout == "", result.stderr
    gradescope = json.loads((tmp_path / "results.json").read_text())
    assert gradescope["score"] == 4 and {t["visibility"] for t in gradescope["tests"]} == {"visible", "hidden"}
    relu = next(t for t in gradescope["tests"] if "relu_layer" in t["name"])
    assert relu["status"] == "failed" and relu["visibility"] == "hidden" and "FAIL a1" in relu["output"]
    assert json.loads((tmp_path / "pl.json").read_text())["score"] == pytest.approx(0.4)
    assert _junit_score((tmp_path / "report.xml").read_text()) == (4, 10)


def test_prairielearn_shows_a_failing_graph_drawn_with_its_verdicts(run, tmp_path, monkeypatch):
    """PrairieLearn shows `images`: a failing submission's graph as an SVG data URI, each leaf's verdict on it,
    within the 1 MB limit; a passing one gets none (nothing to point at)."""
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    import base64

    monkeypatch.chdir(tmp_path)
    wrong = _submission(tmp_path / "wrong", "relu_wrong_side")
    assert run("gradcheck", str(wrong), "--allow-python", "--format", "prairielearn", "-o", "pl.json").exit_code == 1
    document = json.loads((tmp_path / "pl.json").read_text())
    check_json(document, "prairielearn")
    [image] = document["images"]
    head, data = image["url"].split(",", 1)
    svg = base64.b64decode(data).decode()
    assert head == "data:image/svg+xml;base64" and "<svg" in svg and "gradcheck: fail" in svg
    assert "failing: " in image["label"] and "w1" in image["label"]
    assert len(json.dumps(document)) <= 1_000_000
    right = _submission(tmp_path / "right", "right")
    assert run("gradcheck", str(right), "--allow-python", "--format", "prairielearn", "-o", "ok.json").exit_code == 0
    assert json.loads((tmp_path / "ok.json").read_text())["images"] == []


def test_a_submission_that_does_not_load_is_not_gradable_and_a_visible_failed_test(run, tmp_path):
    path = _submission(tmp_path, "right")
    (tmp_path / "layers.py").write_text("def affine_forward(x, w, b:\n")  # a syntax error
    out = {}
    for fmt in ("gradescope", "prairielearn", "junit"):
        result = run("gradcheck", str(path), "--allow-python", "--format", fmt)
        assert result.exit_code == 2 and "SyntaxError" in result.stderr
        out[fmt] = result.stdout
    gradescope, prairielearn = json.loads(out["gradescope"]), json.loads(out["prairielearn"])
    check_json(gradescope, "gradescope")
    check_json(prairielearn, "prairielearn")
    check_junit(out["junit"])
    (test,) = gradescope["tests"]
    assert test["status"] == "failed" and test["visibility"] == "visible" and "SyntaxError" in test["output"]
    assert prairielearn["gradable"] is False and "SyntaxError" in prairielearn["format_errors"][0]
    assert ET.fromstring(out["junit"]).find(".//error") is not None


def test_a_crash_of_the_students_code_is_gradable_and_scores_zero(run, tmp_path):
    """Code that raises is the student's verdict (every part failed), not a bad file: PrairieLearn grades it."""
    path = _submission(tmp_path, "right")
    path.write_text(path.read_text().replace("backward: affine_backward,", "backward: backward_raises,"))
    result = run("gradcheck", str(path), "--allow-python", "--format", "prairielearn")
    document = json.loads(result.stdout)
    check_json(document, "prairielearn")
    assert result.exit_code == 1 and document["gradable"] is True and document["score"] < 1


def test_several_files_add_up_and_one_bad_file_makes_the_run_ungradable(run, tmp_path):
    good = _submission(tmp_path / "a", "right")
    wrong = _submission(tmp_path / "b", "bias_mean")
    both = json.loads(run("gradcheck", str(good), str(wrong), "--allow-python", "--json").stdout)
    assert both["score"]["possible"] == 16 and both["score"]["earned"] < 16 and both["gradable"]
    assert both["score"]["earned"] == sum(f["score"]["earned"] for f in both["files"])
    (tmp_path / "c.yaml").write_text("nodes: [\n")
    result = run("gradcheck", str(good), str(tmp_path / "c.yaml"), "--allow-python", "--format", "prairielearn")
    document = json.loads(result.stdout)
    assert result.exit_code == 2 and document["gradable"] is False and "c.yaml" in document["format_errors"][0]


@pytest.mark.parametrize(
    "block, words",
    [
        ("{leaves: {w9: 2}}", "'w9' is not a leaf of the graph"),
        ("{leafs: 2}", "did you mean 'leaves'"),
        ("{ops: {affine: -1}}", "must be from 0 to"),
        ("{visibility: secret}", "must be one of visible, hidden"),
        ("{expect: {value: 1}}", "did you mean 'values'"),
        ("[1]", "points must be a mapping"),
        ("{leaves: {w1: {points: 2, visible: no}}}", "did you mean 'visibility'"),
    ],
)
def test_a_bad_points_block_is_one_line_with_its_position(run, tmp_path, block, words):
    path = _submission(tmp_path, "right", f"points: {block}\n")
    result = run("trace", str(path), "--allow-python")
    line = len(path.read_text().splitlines())
    assert result.exit_code == 2 and words in result.stderr and f"{path}:{line}:" in result.stderr, result.stderr
