"""The hostile corpus of student code (issue 12): plugin modules that crash, hang, hoard memory, raise
BaseException, print into the JSON, change their inputs in place or patch the verdict. None of them may
produce a pass, and none may stop the run from judging the files after it.

Each tests/hostile/students/NNN_name.py defines the op `k` (forward f, backward b) and says on its first
line what must happen:
    # expect: error|fail|pass: words in the file's error or notes (for pass: what the case is)
All the cases run in one `gradcheck good.yaml <cases...> bad.yaml --allow-python --json` in a subprocess,
between a correct module and a wrong one: the batch goes on after every case, and stdout stays one JSON
document.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_hostile import ENV, ROOT  # tests/ is on sys.path (pytest's prepend import mode)

CORPUS = Path(__file__).parent / "hostile" / "students"
HEADER = re.compile(r"^# expect: (error|fail|pass): (.*)$")
GRAPH = "ops:\n  k: {module: %s, forward: f, backward: b}\ninputs: {x: [1.5, -2.0, 0.7, 3.0]}\nnodes:\n  y: k(x)\n  L: sum(y)\noutput: L\n"
GOOD = "def f(x):\n    return x * x\n\n\ndef b(g, x):\n    return (2 * x * g,)\n"
WRONG = "def f(x):\n    return x * x\n\n\ndef b(g, x):\n    return (3 * x * g,)\n"


def cases() -> list[Path]:
    return sorted(CORPUS.glob("*.py"))


def expectation(path: Path) -> tuple[str, str]:
    m = HEADER.match(path.read_text().splitlines()[0])
    assert m, f"{path.name}: the first line must be `# expect: error|fail|pass: words`"
    return m.group(1), m.group(2)


def _graph(folder: Path, name: str, module_text: str) -> Path:
    """Each file in a folder of its own, its module called layers.py: imports must not leak between them."""
    (folder / name).mkdir()
    (folder / name / "layers.py").write_text(module_text)
    path = folder / name / "hw.yaml"
    path.write_text(GRAPH % "layers.py")
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=ENV
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict[str, dict], list[str]]:
    folder = tmp_path_factory.mktemp("students")
    paths = [_graph(folder, "good", GOOD)]
    paths += [_graph(folder, case.stem, case.read_text()) for case in cases()]
    paths.append(_graph(folder, "wrong", WRONG))
    result = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "gradcheck", *map(str, paths), "--allow-python", "--json"]
        + ["--timeout", "2", "--memory", "300MiB"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        cwd=ROOT,
        env=ENV,
    )
    document = json.loads(result.stdout)  # one JSON document, whatever the students printed
    files = {Path(entry["file"]).parent.name: entry for entry in document["files"]}
    return result, files, [p.parent.name for p in paths]


def test_the_corpus_has_the_findings_of_issue_12():
    assert len(cases()) >= 15


def test_the_batch_judges_every_file_and_fails(batch):
    result, files, names = batch
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert list(files) == names, "every file has its entry, in order: the run went on after each case"
    assert files["good"]["status"] == "pass" and files["wrong"]["status"] == "fail"


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.stem)
def test_case(batch, case):
    _, files, _ = batch
    status, words = expectation(case)
    entry = files[case.stem]
    assert entry["status"] == status, json.dumps(entry)[:2000]
    if status != "pass":
        assert entry.get("passed") is not True
        text = json.dumps(entry, ensure_ascii=False)
        assert words in text, text[:3000]


def test_printed_output_is_captured_not_mixed_into_the_document(batch):
    result, files, _ = batch
    printed = files["133_prints_into_the_json"]["stdout"]
    assert printed.count('{"passed": true}') == 2 * printed.count("\n") // 2 > 0
    assert '{"passed": true}' in result.stderr  # shown to the user, on stderr
    assert files["good"]["stdout"] == ""


def test_printed_output_is_escaped_everywhere(batch):
    """Cursor moves, a carriage return, conceal, OSC title and clipboard, a C1 CSI and a bidi override reach
    neither the terminal (stderr) nor the JSON document: they are shown as escapes (issue 20)."""
    result, files, _ = batch
    printed = files["151_draws_over_the_verdict"]["stdout"]
    assert "\\x1b[1A" in printed and "\\x1b]52;c;" in printed and "\\u202e" in printed
    for text in (result.stdout, result.stderr):
        assert not any(c in text for c in "\x1b\x07\x9b\r\u202e"), repr(text[:300])


def test_the_in_place_forward_does_not_change_the_leaf(tmp_path):
    path = _graph(tmp_path, "inplace", (CORPUS / "132_in_place_forward.py").read_text())
    result = _cli("trace", str(path), "--allow-python", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["values"]["x"] == [1.5, -2.0, 0.7, 3.0]


def test_a_crash_under_trace_is_one_line_and_exit_3(tmp_path):
    path = _graph(tmp_path, "exit", (CORPUS / "120_exit_in_backward.py").read_text())
    result = _cli("trace", str(path), "--allow-python", "--json")
    message = "op k: b ended the process (exit code 0: os._exit or a crash) before returning"
    assert result.returncode == 3 and result.stderr.strip().splitlines() == [f"backprop: error: {message}"]
    assert json.loads(result.stdout)["error"]["message"] == message  # --json: the error is the one document


def test_imports_do_not_leak_between_files_nor_into_backprop(tmp_path):
    """Two students' folders, each with a layers.py importing its own helper: in one run, in either order,
    each is judged by its own helper (sys.modules of one worker is not the other's)."""
    for name, factor in (("right", 2), ("wrong", 3)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "helper.py").write_text(f"FACTOR = {factor}\n")
        (tmp_path / name / "layers.py").write_text(
            "from helper import FACTOR\n\ndef f(x):\n    return x * x\n\ndef b(g, x):\n    return (FACTOR * x * g,)\n"
        )
        (tmp_path / name / "hw.yaml").write_text(GRAPH % "layers.py")
    right, wrong = str(tmp_path / "right" / "hw.yaml"), str(tmp_path / "wrong" / "hw.yaml")
    for order in ([right, wrong], [wrong, right]):
        result = _cli("gradcheck", *order, "--allow-python", "--json")
        verdicts = {Path(f["file"]).parent.name: f["status"] for f in json.loads(result.stdout)["files"]}
        assert verdicts == {"right": "pass", "wrong": "fail"}, order
        assert result.returncode == 1


def test_backprop_itself_never_imports_the_students_modules(tmp_path):
    from backprop_cli import load
    from backprop_cli.fileformat.sandbox import Limits, session
    from backprop_cli.verify import gradcheck

    path = _graph(tmp_path, "good", "import helper_of_student\n" + GOOD)
    (tmp_path / "good" / "helper_of_student.py").write_text("")
    before = set(sys.modules)
    with session(Limits()):
        assert gradcheck(load(path, allow_python=True)).status == "pass"
    assert not {m for m in set(sys.modules) - before if "student" in m or m.startswith("backprop_plugin")}
    assert str(tmp_path / "good") not in sys.path


def test_exit_between_a_good_and_a_wrong_module(tmp_path):
    """gradcheck good.yaml exit.yaml bad.yaml: pass, error, fail; exit 1; one JSON document."""
    paths = [
        _graph(tmp_path, "good", GOOD),
        _graph(tmp_path, "exit", (CORPUS / "120_exit_in_backward.py").read_text()),
        _graph(tmp_path, "bad", WRONG),
    ]
    result = _cli("gradcheck", *map(str, paths), "--allow-python", "--json")
    document = json.loads(result.stdout)
    assert [f["status"] for f in document["files"]] == ["pass", "error", "fail"]
    assert document["passed"] is False and result.returncode == 1
    assert "op k: b ended the process" in document["files"][1]["error"]


def test_a_complex_forward_is_one_clear_line_not_warnings(tmp_path):
    path = _graph(tmp_path, "complex", "def f(x):\n    return x * (1 + 0j)\n\n\ndef b(g, x):\n    return (g,)\n")
    result = _cli("gradcheck", str(path), "--allow-python")
    assert result.returncode == 2 and "Warning" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"backprop: error: {path}:5:6: node y = k(x): op k: f's output is complex (complex128); "
        "return real numbers on inputs of shapes x (4,)"
    ]


def test_the_python_api_worker_ends_with_its_graph(tmp_path):
    import gc

    from backprop_cli import load
    from backprop_cli.fileformat import sandbox

    before = {w.pid for w in sandbox._LIVE}
    graph = load(_graph(tmp_path, "good", GOOD), allow_python=True)
    assert graph.forward()["L"] == pytest.approx(1.5**2 + 4 + 0.7**2 + 9)
    (pid,) = {w.pid for w in sandbox._LIVE} - before
    del graph
    gc.collect()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # gone, and reaped


@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any process's /proc entries")
def test_the_student_cannot_write_into_backprops_stdout_through_proc(tmp_path):
    forger = (
        "import os\n\ndef f(x):\n    try:\n"
        "        with open(f'/proc/{os.getppid()}/fd/1', 'w') as out:\n"
        "            out.write('{\"passed\": true}\\n')\n    except OSError:\n        pass\n    return x * x\n\n"
        "def b(g, x):\n    return (3 * x * g,)\n"
    )
    result = _cli("gradcheck", str(_graph(tmp_path, "forger", forger)), "--allow-python", "--json")
    assert json.loads(result.stdout)["passed"] is False and result.returncode == 1


@pytest.mark.parametrize(
    "value, ok",
    [("512MiB", True), ("2G", True), ("1.5gib", True), ("3000000", True), ("1024TiB", True)]
    + [("10", False), ("lots", False), ("8388608TiB", False), ("1025T", False)],
)
def test_memory_sizes(run, value, ok):
    result = run("gradcheck", "circuit", "-q", "--memory", value)
    assert result.exit_code == (0 if ok else 2), result.stderr
    if not ok:
        words = "more than any machine has" if "T" in value else "is not a size of at least 1MiB"
        assert "--memory" in result.stderr and words in result.stderr and len(result.stderr.splitlines()) == 1


SHAPESHIFTER = "import numpy as np\n\ndef f(x):\n    return x * x if not x.any() else np.ones((5, 4))\n\n"
SHAPESHIFTER += "def b(g, x):\n    return (2 * x * g,)\n"


def test_an_output_of_another_shape_than_at_load_is_one_line(tmp_path):
    """The forward's shape on zeros (learned at load) was never compared with its shape on the real values:
    gradcheck exit 4, trace a (5×4) node declared (4,) (issue 20). Now one line naming both, exit 3."""
    path = _graph(tmp_path, "shape", SHAPESHIFTER)
    words = "f returned an output of shape (5, 4) for inputs of shapes x (4,), and (4,) for inputs of these shapes"
    for command in ("trace", "gradcheck"):
        result = _cli(command, str(path), "--allow-python")
        assert result.returncode == 3 and words in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_an_empty_ops_block_starts_no_worker(tmp_path):
    from backprop_cli import load
    from backprop_cli.fileformat import sandbox

    path = tmp_path / "g.yaml"
    path.write_text("ops: {}\ninputs: {x: 1}\nnodes: {y: x * 2}\noutput: y\n")
    before = set(sandbox._LIVE)
    assert load(path, allow_python=True).forward()["y"] == 2
    assert set(sandbox._LIVE) == before
