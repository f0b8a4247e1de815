"""`backprop train` from the command line: options, JSON, the trained file, data, errors, plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import backprop_cli
from backprop_cli.training.batches import minibatches

QUADRATIC = """
params: {a: 3.0, b: -2.0}
nodes:
  loss: (a - 1) ** 2 + 2 * (b + 0.5) ** 2
output: loss
"""

PERCEPTRON = """
inputs:
  x: {file: x.csv, data: true}
  y: {file: y.npy, data: true}
params:
  w: 0.5
nodes:
  loss: mean(0.5 * (y - w * x) ** 2)
output: loss
"""


def write_data(folder, n=12):
    x = np.linspace(-1, 1, n)
    (folder / "x.csv").write_text("x\n" + "\n".join(repr(float(v)) for v in x) + "\n")
    np.save(folder / "y.npy", 3 * x)
    return x, 3 * x


# ------------------------------------------------------------ the command
def test_train_prints_the_loss_before_and_after(run, graph_file):
    result = run("train", str(graph_file(QUADRATIC)), "--lr", "0.1", "--steps", "50")
    assert result.exit_code == 0, result.stderr
    assert "sgd (lr=0.1): 50 steps, loss 8.5 → " in result.stdout
    assert "a = 1.0000" in result.stdout and "b = -0.5" in result.stdout


def test_json_has_every_kth_loss_and_matches_gradient_descent(run, graph_file):
    result = run("train", str(graph_file(QUADRATIC)), "--lr", "0.1", "--steps", "10", "--json", "--every", "4")
    assert result.exit_code == 0, result.stderr
    obj = json.loads(result.stdout)
    assert obj["schema"] == "backprop.train" and obj["version"] == 1
    (only,) = obj["runs"]
    assert only["step"] == [4, 8, 10]
    a, b, losses = 3.0, -2.0, []  # θ ← θ − αg by hand
    for _ in range(10):
        losses.append((a - 1) ** 2 + 2 * (b + 0.5) ** 2)
        a, b = a - 0.1 * 2 * (a - 1), b - 0.1 * 4 * (b + 0.5)
    assert only["loss"] == pytest.approx([losses[3], losses[7], losses[9]], rel=1e-12)
    assert only["initial_loss"] == 8.5
    assert only["params"] == pytest.approx({"a": a, "b": b}, rel=1e-12)
    assert only["final_loss"] == pytest.approx((a - 1) ** 2 + 2 * (b + 0.5) ** 2, rel=1e-12)


def test_quiet_prints_nothing(run, graph_file):
    result = run("train", str(graph_file(QUADRATIC)), "--quiet")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def test_hyper_parameters_reach_the_optimizer(run, graph_file):
    path = str(graph_file(QUADRATIC))
    result = run(
        "train", path, "--optimizer", "adam", "--beta1", "0.5", "--beta2", "0.9", "--epsilon", "1e-6", "--json"
    )
    assert json.loads(result.stdout)["runs"][0]["hyper"] == {"lr": 1e-3, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6}
    result = run(
        "train", path, "--optimizer", "rmsprop", "--rho", "0.8", "--json", "--schedule", "inverse", "--decay", "0.5"
    )
    obj = json.loads(result.stdout)
    assert obj["runs"][0]["hyper"]["rho"] == 0.8
    assert obj["schedule"] == {"name": "inverse", "k": 0.5}


def test_compare_runs_each_optimizer_from_the_same_start(run, graph_file):
    result = run(
        "train", str(graph_file(QUADRATIC)), "--compare", "sgd,momentum:lr=0.05,adam", "--lr", "0.02", "--json"
    )
    assert result.exit_code == 0, result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert [r["optimizer"] for r in runs] == ["sgd", "momentum", "adam"]
    assert [r["hyper"]["lr"] for r in runs] == [0.02, 0.05, 0.02]
    assert {r["initial_loss"] for r in runs} == {8.5}
    assert len({r["final_loss"] for r in runs}) == 3


def test_trained_file_round_trips_and_traces(run, graph_file, tmp_path):
    path = graph_file(QUADRATIC)
    out = tmp_path / "trained.yaml"
    result = run(
        "train", str(path), "--optimizer", "momentum", "--lr", "0.05", "--steps", "30", "-o", str(out), "--json"
    )
    assert result.exit_code == 0, result.stderr
    params = json.loads(result.stdout)["runs"][0]["params"]
    trained = backprop_cli.load(out)
    assert trained.definitions == backprop_cli.load(path).definitions
    assert {p: float(trained.leaf_values[p]) for p in trained.params} == params  # exactly
    assert run("trace", str(out)).exit_code == 0


def test_divergence_names_the_step_and_exits_3(run, graph_file):
    result = run("train", str(graph_file(QUADRATIC)), "--lr", "100", "--steps", "1000")
    assert result.exit_code == 3
    assert "training diverged at step" in result.stderr and "smaller learning rate" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    # the learning rate suggested was tried: the curvature is 4 along b, so 10 (a tenth) diverges too, 0.1 trains
    assert result.stderr.rstrip().endswith(f"backprop train {graph_file(QUADRATIC)} --steps 1000 --lr 0.1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--beta1", "0.5"], "--beta1 does not apply to sgd"),
        (["--optimizer", "adma"], "did you mean 'adam'"),
        (["--compare", "sgd:lr"], "key=number"),
        (["--decay", "0.1"], "--decay does not apply to the constant schedule"),
        (["--batch-size", "4"], "inputs marked as data"),
        (
            ["-o", "out.bmp"],
            "cannot tell the format from the name: end it in .gif, .htm, .html, .json, .pdf, .png, .svg, .txt, .yaml",
        ),
        (["-o", "no/such/dir/out.yaml"], "no such directory"),
        (["--plot", "curves.bmp"], "must end in .svg"),
        (["--animate", "a.mp4"], "must end in .gif, .html"),
        (["--compare", "sgd,adam", "-o", "t.yaml"], "use --optimizer"),
    ],
)
def test_bad_usage_is_one_line_exit_2(run, graph_file, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("train", str(graph_file(QUADRATIC)), *args)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.yaml"]  # nothing written


def test_a_graph_without_params_or_with_a_tensor_loss(run, graph_file):
    result = run("train", str(graph_file("inputs: {x: 1}\nnodes: {f: x * 2}\noutput: f\n")))
    assert result.exit_code == 2 and "no params" in result.stderr
    result = run("train", str(graph_file("params: {w: [1, 2]}\nnodes: {f: w * 2}\noutput: f\n")))
    assert result.exit_code == 2 and "must be a scalar loss" in result.stderr


# ------------------------------------------------------------ data: files and minibatches
def test_inputs_from_csv_and_npy_next_to_the_graph(tmp_path, graph_file):
    x, y = write_data(tmp_path)
    graph = backprop_cli.load(graph_file(PERCEPTRON))
    np.testing.assert_array_equal(graph.leaf_values["x"], x)
    np.testing.assert_array_equal(graph.leaf_values["y"], y)
    assert graph.nodes["x"].attrs == {"data": True, "file": "x.csv"}


def test_minibatch_sgd_matches_the_lecture(tmp_path, graph_file):
    """g ← (1/m) ∇ Σ L over a sampled minibatch, θ ← θ − αg, with the same seeded batches."""
    from backprop_cli.training.loop import train
    from backprop_cli.training.optimizers import make_optimizer

    x, y = write_data(tmp_path)
    graph = backprop_cli.load(graph_file(PERCEPTRON))
    run = train(graph, make_optimizer("sgd", lr=0.5), 20, batch_size=4, seed=7)
    batches = minibatches(graph, 4, 7)
    w = 0.5
    for t in range(20):
        batch = next(batches)
        xb, yb = batch["x"], batch["y"]
        assert run.losses[t] == pytest.approx(np.mean(0.5 * (yb - w * xb) ** 2), rel=1e-12)
        g = np.mean(-(yb - w * xb) * xb)
        w = w - 0.5 * g
    assert float(run.params["w"]) == pytest.approx(w, rel=1e-12)


def test_minibatches_are_seeded_epochs_of_matching_rows(tmp_path, graph_file):
    write_data(tmp_path, n=10)
    graph = backprop_cli.load(graph_file(PERCEPTRON))
    batches = minibatches(graph, 3, seed=1)
    epoch = [next(batches) for _ in range(3)]  # 10 // 3 batches; the leftover row is left out
    rows = np.concatenate([b["x"] for b in epoch])
    assert len(set(rows.tolist())) == 9
    for b in epoch:
        np.testing.assert_array_equal(b["y"], 3 * b["x"])  # x and y rows stay paired
    again = minibatches(graph, 3, seed=1)
    np.testing.assert_array_equal(next(again)["x"], epoch[0]["x"])
    other = minibatches(graph, 3, seed=2)
    assert not np.array_equal(next(other)["x"], epoch[0]["x"])


def test_batch_size_on_the_command_line(run, tmp_path, graph_file):
    write_data(tmp_path)
    path = str(graph_file(PERCEPTRON))
    one = run("train", path, "--batch-size", "4", "--lr", "0.5", "--steps", "30", "--json", "--seed", "3")
    two = run("train", path, "--batch-size", "4", "--lr", "0.5", "--steps", "30", "--json", "--seed", "3")
    assert one.exit_code == 0, one.stderr
    assert one.stdout == two.stdout
    assert json.loads(one.stdout)["runs"][0]["params"]["w"] == pytest.approx(3.0, abs=0.05)
    bad = run("train", path, "--batch-size", "13")
    assert bad.exit_code == 2 and "between 1 and the 12 examples" in bad.stderr


def test_trained_file_keeps_file_references_beside_the_graph(run, tmp_path, graph_file):
    write_data(tmp_path)
    path = graph_file(PERCEPTRON)
    assert run("train", str(path), "-o", str(tmp_path / "trained.yaml"), "-q").exit_code == 0
    text = (tmp_path / "trained.yaml").read_text()
    assert "file: x.csv" in text and "data: true" in text
    elsewhere = tmp_path / "out"
    elsewhere.mkdir()
    assert run("train", str(path), "-o", str(elsewhere / "trained.yaml"), "-q").exit_code == 0
    moved = backprop_cli.load(elsewhere / "trained.yaml")  # values written out: no reference to break
    np.testing.assert_array_equal(moved.leaf_values["x"], np.linspace(-1, 1, 12))
    assert moved.nodes["x"].attrs == {"data": True}


@pytest.mark.parametrize(
    ("leaf", "files", "message"),
    [
        ("{file: ../x.npy}", {}, "outside the graph file's folder"),
        ("{file: /etc/passwd.csv}", {}, "outside the graph file's folder"),
        ("{file: missing.npy}", {}, "no such file 'missing.npy'"),
        ("{file: x.txt}", {"x.txt": "1"}, "only .npy and .csv"),
        ("{file: x.csv}", {"x.csv": "1,2\n3\n"}, "x.csv line 2: 1 columns"),
        ("{file: x.csv}", {"x.csv": "1\nabc\n"}, "x.csv line 2: 'abc' is not a number"),
        ("{file: x.npy}", {"x.npy": "not numpy"}, "not a readable .npy"),
        ("{file: x.csv, shape: [2]}", {"x.csv": "1\n"}, "'shape' does not go with file"),
        ("{value: 1, data: maybe}", {}, "data must be true or false"),
    ],
)
def test_bad_data_leaves_are_one_line_errors(run, tmp_path, graph_file, leaf, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    path = graph_file(f"inputs:\n  x: {leaf}\nparams: {{w: 1.0}}\nnodes:\n  f: sum(w * x)\noutput: f\n")
    result = run("trace", str(path))
    assert result.exit_code == 2
    assert message in result.stderr and str(path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_params_cannot_be_data(run, graph_file):
    result = run("trace", str(graph_file("params: {w: {value: [1, 2], data: true}}\nnodes: {f: sum(w)}\noutput: f\n")))
    assert result.exit_code == 2 and "only inputs can be data" in result.stderr


# ------------------------------------------------------------ pictures
def test_plot_draws_curves_and_the_contour(run, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "race.svg"
    result = run(
        "train",
        "rosenbrock",
        "--compare",
        "sgd:lr=1e-3,momentum:lr=1e-3,adam:lr=0.1",
        "--steps",
        "40",
        "--plot",
        str(out),
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    svg = out.read_text()
    assert svg.startswith("<?xml") and "sgd (lr=0.001)" in svg and "adam (lr=0.1)" in svg
    assert "loss over (x, y)" in svg  # the contour panel


def test_animate_writes_an_html_page(run, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "race.html"
    result = run("train", "saddle", "--compare", "sgd:lr=0.1,adam:lr=0.1", "--steps", "5", "--animate", str(out), "-q")
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert "<html" in page.lower() or "animation" in page.lower()
    assert "http://" not in page and "https://" not in page, "self-contained: nothing fetched from the network"
    assert "▶" in page and 'class="fa' not in page  # the buttons have their symbols without font-awesome


def test_missing_matplotlib_is_one_line_exit_2(run, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    result = run("train", "saddle", "--steps", "3", "--plot", str(tmp_path / "c.svg"))
    assert result.exit_code == 2
    assert "pip install 'backprop-cli[plot]'" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bundled_optimizer_graphs_train(run):
    for name, args in {
        "rosenbrock": ["--optimizer", "adam", "--lr", "0.1", "--steps", "1000"],
        "beale": ["--optimizer", "adam", "--lr", "0.05", "--steps", "1000"],
        "saddle": ["--optimizer", "momentum", "--lr", "0.05", "--steps", "200"],
        "perceptron_data": ["--batch-size", "4", "--lr", "0.1", "--steps", "200"],
    }.items():
        result = run("train", name, *args, "--json")
        assert result.exit_code == 0, (name, result.stderr)
        final = json.loads(result.stdout)["runs"][0]["final_loss"]
        lowest = {"rosenbrock": 0.0, "beale": 0.0, "saddle": -0.25, "perceptron_data": 0.0}[name]
        assert math.isclose(final, lowest, abs_tol=0.06), (name, final)


def test_divergence_with_json_still_prints_a_json_object(run):
    import json

    result = run("train", "rosenbrock", "--optimizer", "sgd", "--lr", "0.1", "--steps", "50", "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert (
        data["schema"] == "backprop.train" and "diverged at step" in data["error"]["message"] and data["exit_code"] == 3
    )
    assert len(result.stderr.strip().splitlines()) == 1
