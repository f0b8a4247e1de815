"""examples/autograder run end to end (issue 23): each platform's file layout simulated in a temporary folder
(no docker), a good, a wrong and a broken submission; the results files validated against the platforms'
shapes (backprop_cli/schemas) and the three scores agreeing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from schema_check import check_json, check_junit

pytest.importorskip("jsonschema")
pytest.importorskip("xmlschema")

EXAMPLE = Path(__file__).parent.parent / "examples" / "autograder"
BROKEN = "def affine_forward(x, w, b:\n    return x @ w + b\n"  # a syntax error
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the scripts are bash")


def _env(**extra: str) -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **extra}


def _submit(folder: Path, which: str) -> None:
    folder.mkdir(parents=True)
    if which == "broken":
        (folder / "layers.py").write_text(BROKEN)
    else:
        shutil.copy(EXAMPLE / "submissions" / which / "layers.py", folder / "layers.py")


def _run_script(script: Path, root: Path, variable: str, platform: str) -> dict:
    """The platform's script with its root folder in variable; its results.json, valid against the platform's
    schema and under PrairieLearn's 1 MB."""
    done = subprocess.run(
        ["bash", str(script)], env=_env(**{variable: str(root)}), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    written = root / "results" / "results.json"
    results = json.loads(written.read_text())
    check_json(results, platform)
    assert written.stat().st_size < 1_000_000  # PrairieLearn's limit
    return results


def _gradescope(tmp_path: Path, which: str) -> dict:
    root = tmp_path / "autograder"  # /autograder: source/ (the zip), submission/, results/
    shutil.copytree(EXAMPLE, root / "source")
    _submit(root / "submission", which)
    return _run_script(root / "source" / "gradescope" / "run_autograder", root, "AUTOGRADER_ROOT", "gradescope")


def _prairielearn(tmp_path: Path, which: str) -> dict:
    root = tmp_path / "grade"  # /grade: tests/ (the question's), student/, results/
    shutil.copytree(EXAMPLE / "prairielearn" / "tests", root / "tests")
    _submit(root / "student", which)
    return _run_script(root / "tests" / "run.sh", root, "GRADE_ROOT", "prairielearn")


def test_the_question_files_are_the_same():
    assert (EXAMPLE / "prairielearn" / "tests" / "net.yaml").read_text() == (
        EXAMPLE / "assignment" / "net.yaml"
    ).read_text()


def test_a_good_submission_gets_full_marks_on_both_platforms(tmp_path):
    gradescope = _gradescope(tmp_path / "gs", "good")
    assert gradescope["score"] == sum(t["max_score"] for t in gradescope["tests"]) == 14
    assert all(t["status"] == "passed" for t in gradescope["tests"])
    assert _prairielearn(tmp_path / "pl", "good")["score"] == 1.0


def test_a_wrong_submission_scores_less_with_its_bugs_named_everywhere(tmp_path):
    gradescope = _gradescope(tmp_path / "gs", "wrong")
    prairielearn = _prairielearn(tmp_path / "pl", "wrong")
    assert 0 < gradescope["score"] < 14 and prairielearn["score"] == pytest.approx(gradescope["score"] / 14)
    failed = {t["name"]: t for t in gradescope["tests"] if t["status"] == "failed"}
    assert "the ReLU mask is on the wrong side" in failed["plugin op relu_layer (its backward alone)"]["output"]
    assert (
        "averaged over the batch where it must be summed" in failed["plugin op affine (its backward alone)"]["output"]
    )
    softmax = next(t for t in gradescope["tests"] if "softmax_loss" in t["name"])
    assert softmax["visibility"] == "after_due_date" and softmax["status"] == "passed"
    ci = tmp_path / "ci"
    shutil.copytree(EXAMPLE / "ci", ci)
    shutil.copy(EXAMPLE / "assignment" / "net.yaml", ci)
    shutil.copy(EXAMPLE / "submissions" / "wrong" / "layers.py", ci)
    done = subprocess.run(["bash", "run.sh"], cwd=ci, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and f"score {gradescope['score']:g}/14" in done.stdout  # the job fails
    check_junit(str(ci / "report.xml"))


def test_a_broken_submission_is_a_visible_failure_and_not_gradable(tmp_path):
    gradescope = _gradescope(tmp_path / "gs", "broken")
    (test,) = gradescope["tests"]
    assert gradescope["score"] == 0 and test["visibility"] == "visible" and "SyntaxError" in test["output"]
    prairielearn = _prairielearn(tmp_path / "pl", "broken")
    assert prairielearn["gradable"] is False and "SyntaxError" in prairielearn["format_errors"][0]
