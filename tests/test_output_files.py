"""What backprop writes (issue 12): atomically, never over its own inputs, never over a file the command
line did not name, checked before any long work; and a trained graph that loads back, whatever its size."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop_cli
from backprop_cli.errors import UsageError
from backprop_cli.outputs import files

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = Path(__file__).parent / "plugins"
# PYTHONDONTWRITEBYTECODE: a process under a file-size limit must not write .pyc files (one cut short by the limit
# breaks every later import of its module, in every test)
ENV = {
    **os.environ,
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "PYTHONPATH": str(ROOT),
    "PYTHONDONTWRITEBYTECODE": "1",
}
TRAINABLE = "inputs: {x: 2}\nparams: {w: 0.5}\nnodes:\n  loss: (w * x - 1) ** 2\noutput: loss\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


def backprop(*args: str, fsize: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        if fsize is not None:  # as `prlimit --fsize`: a write past fsize bytes fails (disk full, a quota)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=ENV,
    )


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------ atomic writes
def test_a_write_that_fails_part_way_leaves_the_old_file_and_no_temporary_file(tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text(TRAINABLE)
    out = tmp_path / "trained.yaml"
    old = "# the user's earlier trained graph\n" + TRAINABLE * 3
    out.write_text(old)
    result = backprop("train", str(graph), "--steps", "3", "-q", "-o", str(out), fsize=40)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"backprop: error: cannot write {out}") and "Traceback" not in result.stderr
    assert out.read_text() == old
    assert listing(tmp_path) == ["g.yaml", "trained.yaml"]


@pytest.mark.parametrize(
    "args, name",
    [
        (["train", "{graph}", "--steps", "3", "-q", "--plot", "{out}"], "loss.svg"),
        (["train", "{graph}", "--steps", "3", "-q", "--animate", "{out}"], "loss.html"),
        (["render", "{graph}", "-o", "{out}"], "drawing.svg"),
    ],
)
def test_plots_animations_and_drawings_are_written_atomically_too(tmp_path, args, name):
    if args[0] == "render" and shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    graph = tmp_path / "g.yaml"
    graph.write_text(TRAINABLE)
    out = tmp_path / name
    out.write_text("the old picture")
    filled = [a.format(graph=graph, out=out) for a in args]
    result = backprop(*filled, fsize=100)
    assert result.returncode == 2 and f"cannot write {out}" in result.stderr, result.stderr
    assert out.read_text() == "the old picture" and listing(tmp_path) == sorted(["g.yaml", name])


def test_a_failed_write_in_process_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "picture.svg"
    target.write_text("old")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(UsageError, match="cannot write .*No space left on device"):
        files.write_bytes(str(target), b"new drawing")
    assert target.read_text() == "old" and listing(tmp_path) == ["picture.svg"]


def test_files_that_belong_together_are_renamed_only_when_all_were_written(tmp_path):
    first = tmp_path / "a.svg"
    first.write_text("old a")
    with pytest.raises(UsageError, match="cannot write"):
        files.write_files({str(first): b"new a", str(tmp_path / "missing" / "a.key.svg"): b"new key"})
    assert first.read_text() == "old a" and listing(tmp_path) == ["a.svg"]


def test_a_new_file_gets_the_usual_permissions_and_an_old_one_keeps_its_own(tmp_path):
    new, old = tmp_path / "new.txt", tmp_path / "old.txt"
    old.write_text("x")
    old.chmod(0o640)
    files.write_text(str(new), "n")
    files.write_text(str(old), "o")
    mask = os.umask(0)
    os.umask(mask)
    assert new.stat().st_mode & 0o777 == 0o666 & ~mask
    assert old.stat().st_mode & 0o777 == 0o640 and old.read_text() == "o"


# ------------------------------------------------------------ outputs that are inputs
def test_train_refuses_to_write_over_its_own_graph(run, tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text(TRAINABLE)
    result = run("train", str(graph), "-q", "-o", str(graph))
    assert result.exit_code == 2 and "which this run reads" in result.stderr
    assert graph.read_text() == TRAINABLE


@needs_dot
def test_render_refuses_to_draw_over_the_graph_a_data_file_or_a_plugin_module(run, tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text(TRAINABLE)
    result = run("render", "--format", "svg", "-o", str(graph), str(graph))
    assert result.exit_code == 2 and "which this run reads" in result.stderr
    assert graph.read_text() == TRAINABLE
    shutil.copy(PLUGINS / "layers.py", tmp_path / "layers.py")
    np.save(tmp_path / "x.npy", np.array([[0.5, -1.2, 0.3], [1.5, 0.2, -0.7], [-0.3, 0.8, 1.1], [0.9, -0.4, 0.6]]))
    net = tmp_path / "net.yaml"
    net.write_text(
        (PLUGINS / "net.yaml")
        .read_text()
        .replace("x: [[0.5, -1.2, 0.3], [1.5, 0.2, -0.7], [-0.3, 0.8, 1.1], [0.9, -0.4, 0.6]]", "x: {file: x.npy}")
    )
    for target in ("layers.py", "x.npy"):
        before = (tmp_path / target).read_bytes()
        result = run("render", str(net), "--allow-python", "--format", "svg", "-o", str(tmp_path / target))
        assert result.exit_code == 2 and "which this run reads" in result.stderr, result.stderr
        assert (tmp_path / target).read_bytes() == before


@pytest.mark.parametrize(
    "text, extra",
    [
        (TRAINABLE, []),  # the output is refused as an input: its error form is not written there either
        ("nodes: {f: x +}\noutput: f\n", []),  # the graph does not load: nothing noted it as an input yet
        (TRAINABLE, ["--no-such-option"]),  # click refuses the run before it starts
    ],
    ids=["refused-as-input", "does-not-load", "options-refused"],
)
def test_an_error_written_in_a_graders_file_never_replaces_an_input(run, tmp_path, text, extra):
    """A grader's format writes a run's error in -o FILE (issue 23), but never in a file the run reads: found
    in issue 25, when `gradcheck g.yaml --format gradescope -o g.yaml` replaced the graph with the error."""
    graph = tmp_path / "g.yaml"
    graph.write_text(text)
    result = run("gradcheck", str(graph), "--format", "gradescope", "-o", str(graph), *extra)
    assert result.exit_code == 2 and graph.read_text() == text and "wrote" not in result.stderr, result.stderr
    old = tmp_path / "results.json"  # an earlier run's results file: replaced by the run's results or its error
    old.write_text("{}")
    result = run("gradcheck", str(graph), "--format", "gradescope", "-o", str(old), *extra)
    assert json.loads(old.read_text())["tests"][0]["status"] == ("failed" if result.exit_code == 2 else "passed")


@pytest.mark.parametrize("args", [["gradcheck", "circuit", "--json"], ["trace", "circuit"]])
def test_a_name_ending_in_a_slash_is_a_folder_never_a_file_of_its_name(run, tmp_path, monkeypatch, args):
    """-o results/ once wrote a file named `results` (issue 25, where -o DIR takes a class's results files)."""
    monkeypatch.chdir(tmp_path)
    result = run(*args, "-o", "results/")
    assert result.exit_code == 2 and "names a folder" in result.stderr and not (tmp_path / "results").exists()


@needs_dot
def test_a_worksheets_existing_key_needs_force(run, tmp_path):
    out, key = tmp_path / "q.svg", tmp_path / "q.key.svg"
    key.write_text("the instructor's own key")
    result = run("render", "circuit", "--worksheet", "-o", str(out))
    assert result.exit_code == 2 and "--force" in result.stderr
    assert key.read_text() == "the instructor's own key" and not out.exists()
    assert run("render", "circuit", "--worksheet", "-o", str(out), "--force").exit_code == 0
    assert key.read_text().lstrip().startswith("<?xml")


@needs_dot
def test_steps_replaces_its_own_frames_and_nothing_else(run, tmp_path):
    folder = tmp_path / "frames"
    assert run("render", "two_layer", "--steps", str(folder)).exit_code == 0
    many = listing(folder)
    (folder / "notes.txt").write_text("mine")
    assert run("render", "circuit", "--steps", str(folder)).exit_code == 0
    frames = [n for n in listing(folder) if n.startswith("step-")]
    page = json.loads((folder / "index.html").read_text().split("const steps = ")[1].split(";\n")[0])
    assert frames == sorted(page["frames"]) and len(frames) < len(many) - 1  # no stale frame of two_layer
    assert (folder / "notes.txt").read_text() == "mine"
    assert not [n for n in listing(folder) if n.startswith(".")]


@needs_dot
def test_steps_does_not_replace_a_page_it_did_not_make(run, tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<html>the course's home page</html>")
    result = run("render", "circuit", "--steps", str(folder))
    assert result.exit_code == 2 and "--force" in result.stderr
    assert (folder / "index.html").read_text() == "<html>the course's home page</html>"
    assert listing(folder) == ["index.html"]


# ------------------------------------------------------------ checked before any long work
@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_a_read_only_folder_is_refused_before_training(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    graph = tmp_path / "g.yaml"
    graph.write_text(TRAINABLE)
    result = backprop("train", str(graph), "--steps", "10000000", "-o", str(locked / "t.yaml"))
    assert result.returncode == 2 and "permission denied" in result.stderr


def test_an_unwritable_output_is_refused_before_training(tmp_path):
    """/proc/version exists and cannot be written, even by root: refused at once, not after 10⁸ steps."""
    graph = tmp_path / "g.yaml"
    graph.write_text(TRAINABLE)
    for option in ("-o", "--plot"):
        target = "/proc/version" if option == "--plot" else "/proc/self/t.yaml"
        result = backprop("train", str(graph), "--steps", "10000000", option, target)
        assert result.returncode == 2 and target in result.stderr, result.stderr


# ------------------------------------------------------------ a trained graph that loads back
def test_a_large_param_goes_to_a_npy_file_and_the_graph_loads_back(run, tmp_path):
    graph = tmp_path / "big.yaml"
    graph.write_text(
        "inputs: {x: {shape: [2, 1000], init: normal}}\nparams:\n  w: {shape: [1000, 500], init: xavier}\n"
        "nodes:\n  h: x @ w\n  loss: sum(h * h) / 1000\noutput: loss\nseed: 3\n"
    )
    out = tmp_path / "trained.yaml"
    assert run("train", str(graph), "--steps", "1", "--lr", "0.01", "-q", "-o", str(out)).exit_code == 0
    assert out.stat().st_size < 2000 and sorted(listing(tmp_path)) == [
        "big.yaml",
        "trained.w.npy",
        "trained.x.npy",
        "trained.yaml",
    ]
    original, trained = backprop_cli.load(graph), backprop_cli.load(out)
    w0 = original.leaf_values["w"]
    expected = w0 - 0.01 * original.backward()["w"]  # one SGD step, from the gradient of the original graph
    np.testing.assert_array_equal(trained.leaf_values["x"], original.leaf_values["x"])
    np.testing.assert_allclose(trained.leaf_values["w"], expected, rtol=1e-12)
    assert not np.array_equal(trained.leaf_values["w"], w0)
    for command in (
        ["trace", str(out), "--json"],
        ["gradcheck", str(out), "-q", "--samples", "3"],
        ["render", str(out), "--format", "dot", "-o", str(tmp_path / "t.dot")],
        ["train", str(out), "--steps", "1", "-q"],
    ):
        result = run(*command)
        assert result.exit_code == 0, (command, result.stderr)
    again = run("train", str(out), "--steps", "1", "-q", "-o", str(tmp_path / "again.yaml"))
    assert again.exit_code == 0 and (tmp_path / "again.w.npy").exists()


def test_npy_files_beside_a_new_output_do_not_replace_someone_elses(run, tmp_path):
    graph = tmp_path / "big.yaml"
    graph.write_text("params:\n  w: {shape: [40, 40], init: xavier}\nnodes:\n  loss: sum(w * w)\noutput: loss\n")
    (tmp_path / "t.w.npy").write_bytes(b"someone's array")
    result = run("train", str(graph), "--steps", "1", "-q", "-o", str(tmp_path / "t.yaml"))
    assert result.exit_code == 2 and "--force" in result.stderr
    assert (tmp_path / "t.w.npy").read_bytes() == b"someone's array" and not (tmp_path / "t.yaml").exists()
    assert run("train", str(graph), "--steps", "1", "-q", "-o", str(tmp_path / "t.yaml"), "--force").exit_code == 0
    assert run("train", str(graph), "--steps", "1", "-q", "-o", str(tmp_path / "t.yaml")).exit_code == 0  # its own


def test_an_npy_beside_the_output_that_is_an_input_is_refused_even_with_force(run, tmp_path):
    np.save(tmp_path / "t.w.npy", np.ones((40, 40)))
    graph = tmp_path / "g.yaml"
    graph.write_text("params:\n  w: {file: t.w.npy}\nnodes:\n  loss: sum(w * w)\noutput: loss\n")
    result = run("train", str(graph), "--steps", "1", "-q", "-o", str(tmp_path / "t.yaml"), "--force")
    assert result.exit_code == 2 and "which this run reads" in result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "t.w.npy"), np.ones((40, 40)))


def test_plugin_modules_are_found_from_where_the_trained_graph_is(run, tmp_path):
    work = tmp_path / "hw"
    work.mkdir()
    shutil.copy(PLUGINS / "layers.py", work / "layers.py")
    shutil.copy(PLUGINS / "net.yaml", work / "net.yaml")
    up = tmp_path / "trained.yaml"  # a folder above: the module is hw/layers.py from there
    assert run("train", str(work / "net.yaml"), "--allow-python", "--steps", "2", "-q", "-o", str(up)).exit_code == 0
    assert "module: hw/layers.py" in up.read_text()
    result = run("trace", str(up), "--allow-python", "--json")
    assert result.exit_code == 0, result.stderr
    assert run("gradcheck", str(up), "--allow-python", "-q").exit_code == 0
    aside = tmp_path / "elsewhere"
    aside.mkdir()
    result = run("train", str(work / "net.yaml"), "--allow-python", "--steps", "2", "-q", "-o", str(aside / "t.yaml"))
    assert result.exit_code == 2 and "outside the new file's folder" in result.stderr
    assert listing(aside) == []
