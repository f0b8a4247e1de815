"""Training that works as the tool suggests it (issue 21): the graph file's `train:` defaults, every bundled
example trained with default options, a diverged optimizer as one line of a race, and every learning rate
the tool suggests tried by running the command it prints."""

from __future__ import annotations

import json
import re
import shlex
import sys

import pytest

import backprop_cli
from backprop_cli.examples import bundled
from backprop_cli.fileformat.training_defaults import MAX_LR, OPTIMIZER_NAMES, learning_rate
from backprop_cli.training.loop import train
from backprop_cli.training.optimizers import OPTIMIZERS, RANGES, make_optimizer

FIRST_ORDER = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
SWEEP_STEPS = 30  # every optimizer on every example: a too-large rate shows within ten steps (two_layer at 10x its sgd rate: 2e7 at step 10)
SUGGESTED = re.compile(r"(backprop train .*)$")


def trainable() -> list[str]:
    names = []
    for path in bundled():
        graph = backprop_cli.load(path)
        if graph.params and graph.nodes[graph.output].shape == ():
            names.append(path.stem)
    return names


def rerun(run, line: str):
    """Run a command line the tool printed, exactly as printed."""
    words = shlex.split(SUGGESTED.search(line.strip()).group(1))
    assert words[0] == "backprop"
    return run(*words[1:])


# ------------------------------------------------------------ the train: key
def test_the_file_knows_the_optimizers_and_ranges_of_the_training_layer():
    assert set(OPTIMIZER_NAMES) == set(OPTIMIZERS)
    assert RANGES["lr"][1] == MAX_LR


def test_train_key_is_read_and_written_back(run, graph_file, tmp_path):
    path = graph_file(
        "params: {w: 3.0}\nnodes: {L: (w - 1) ** 2}\noutput: L\n"
        "train: {optimizer: momentum, steps: 7, lr: {momentum: 0.05, adam: 0.2}}\n"
    )
    graph = backprop_cli.load(path)
    assert graph.training == {"optimizer": "momentum", "steps": 7, "lr": {"momentum": 0.05, "adam": 0.2}}
    assert learning_rate(graph.training, "adam") == 0.2 and learning_rate(graph.training, "sgd") is None
    out = tmp_path / "trained.yaml"
    result = run("train", str(path), "-o", str(out), "--json")
    data = json.loads(result.stdout)
    assert data["steps"] == 7 and data["runs"][0]["optimizer"] == "momentum"
    assert data["runs"][0]["hyper"]["lr"] == 0.05
    assert backprop_cli.load(out).training == graph.training  # train -o keeps the defaults


@pytest.mark.parametrize(
    ("block", "where", "words"),
    [
        ("train: adam", "4:8", "train must be a mapping"),
        ("train: {optimiser: adam}", "4:9", "unknown key 'optimiser'; did you mean 'optimizer'?"),
        ("train: {optimizer: adamw}", "4:20", "unknown optimizer 'adamw'; did you mean 'adam'?"),
        ("train: {steps: 0}", "4:16", "steps must be a whole number from 1"),
        ("train: {steps: 2.5}", "4:16", "steps must be a whole number"),
        ("train: {lr: -1}", "4:13", "lr must be a number > 0"),
        ("train: {lr: .nan}", "4:13", "lr must be a number > 0"),
        ("train: {lr: {sgd: 1e7}}", "4:19", "lr must be a number > 0 (at most 1e6)"),
        ("train: {lr: {sdg: 0.1}}", "4:14", "unknown optimizer 'sdg'; did you mean 'sgd'?"),
    ],
)
def test_train_key_mistakes_name_the_line_and_column(run, graph_file, block, where, words):
    path = graph_file(f"params: {{w: 3.0}}\nnodes: {{L: (w - 1) ** 2}}\noutput: L\n{block}\n")
    result = run("trace", str(path))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"backprop: error: {path}:{where}: train") and words in result.stderr


def test_options_win_over_the_file_and_the_file_over_the_optimizers(run, graph_file):
    path = str(graph_file("params: {w: 3.0}\nnodes: {L: (w - 1) ** 2}\noutput: L\ntrain: {steps: 5, lr: 0.02}\n"))

    def hyper(*args):
        data = json.loads(run("train", path, "--json", *args).stdout)
        return [(r["optimizer"], r["hyper"]["lr"], data["steps"]) for r in data["runs"]]

    assert hyper() == [("sgd", 0.02, 5)]  # one rate for every optimizer
    assert hyper("--lr", "0.1", "--steps", "3") == [("sgd", 0.1, 3)]
    assert hyper("--compare", "sgd,adam:lr=0.3") == [("sgd", 0.02, 5), ("adam", 0.3, 5)]
    assert hyper("--optimizer", "lbfgs") == [("lbfgs", 0.02, 5)]


# ------------------------------------------------------------ the bundled examples, with default options
@pytest.mark.parametrize("name", trainable())
def test_every_bundled_example_trains_with_default_options(run, name):
    result = run("train", name, "--json")
    assert result.exit_code == 0, result.stderr
    [only] = json.loads(result.stdout)["runs"]
    assert only["diverged_at"] is None and only["final_loss"] < only["initial_loss"], only["hyper"]


def test_every_first_order_optimizer_trains_every_example_at_the_files_rates():
    for name in trainable():
        graph = backprop_cli.load(name)
        steps = min(SWEEP_STEPS, graph.training.get("steps", 100))
        for optimizer in FIRST_ORDER:
            lr = learning_rate(graph.training, optimizer)
            run = train(graph, make_optimizer(optimizer, **({"lr": lr} if lr else {})), steps, keep_diverged=True)
            assert run.finished and run.final_loss < run.losses[0], (name, optimizer, run.hyper, run.diverged)


# ------------------------------------------------------------ divergence: one line of a race, a suggestion that runs
def test_a_diverged_optimizer_is_one_line_of_the_race(run):
    result = run("train", "rosenbrock", "--compare", "sgd:lr=0.01,momentum,adam", "--steps", "200")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("sgd (lr=0.01): loss 12.5 → ") and "then diverged at step 8 (node loss." in lines[0]
    assert lines[1].startswith("  with a smaller learning rate it trains: backprop train rosenbrock")
    assert any(line.startswith("momentum (") for line in lines) and any(line.startswith("adam (") for line in lines)
    again = rerun(run, lines[1])
    assert again.exit_code == 0 and "diverged" not in again.stdout + again.stderr, again.stderr


def test_a_diverged_run_in_json_and_quiet(run):
    args = ("train", "rosenbrock", "--compare", "momentum:lr=0.01:momentum=0.5,adam", "--steps", "50")
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    momentum, adam = json.loads(result.stdout)["runs"]
    k = momentum["diverged_at"]
    assert k > 2 and "is inf" in momentum["diverged"] and momentum["final_loss"] is None
    assert momentum["step"] == list(range(1, k)) and len(momentum["loss"]) == k - 1  # the finite losses before
    assert momentum["suggested_lr"] == 0.001 and adam["diverged_at"] is None and adam["suggested_lr"] is None
    [warning] = result.stderr.splitlines()  # the summary is not printed: the divergence is said on stderr
    assert warning.startswith(f"backprop: warning: momentum diverged at step {k}")
    assert "--compare momentum:momentum=0.5:lr=0.001,adam" in warning  # its other settings kept
    assert rerun(run, warning).exit_code == 0
    quiet = run(*args, "-q")
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == warning.replace("--json", "-q") + "\n"


def test_every_optimizer_diverging_is_exit_3_with_a_command_that_trains(run):
    result = run("train", "rosenbrock", "--compare", "sgd:lr=0.01,nesterov:lr=0.01", "--steps", "30")
    assert result.exit_code == 3 and len(result.stderr.splitlines()) == 1
    assert "training diverged for every optimizer: sgd (lr=0.01) diverged at step 8" in result.stderr
    again = rerun(run, result.stderr)
    assert again.exit_code == 0 and "diverged" not in again.stdout, again.stderr


def test_a_suggestion_is_only_printed_when_it_was_tried(run, graph_file, monkeypatch):
    from backprop_cli.training import smaller_rate

    monkeypatch.setattr(smaller_rate, "BUDGET_SECONDS", 0.0)  # no time to try: no number
    result = run("train", "rosenbrock", "--optimizer", "sgd", "--lr", "0.01", "--steps", "20")
    assert result.exit_code == 3 and result.stderr.rstrip().endswith("try a smaller learning rate than 0.01")


def test_the_plot_marks_a_diverged_runs_end_and_keeps_the_others_scale(run, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "race.svg"
    result = run("train", "rosenbrock", "--compare", "sgd:lr=0.01,adam", "--steps", "60", "--plot", str(out), "-q")
    assert result.exit_code == 0, result.stderr  # and no RuntimeWarning from scaling to a loss of 1e114
    svg = out.read_text()
    assert "sgd (lr=0.01, diverged at step 8)" in svg and "adam (lr=0.1)" in svg


def test_the_animation_of_a_race_with_a_diverged_run(run, tmp_path):
    """Its curve is shorter than the others': drawing frame t of it was a ValueError (exit 4)."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "race.html"
    result = run("train", "rosenbrock", "--compare", "sgd:lr=0.01,adam", "--steps", "9", "--animate", str(out), "-q")
    assert result.exit_code == 0, result.stderr
    assert "<script" in out.read_text() and "sgd diverged at step 8" in result.stderr


def test_missing_matplotlib_stops_before_any_training_or_file(run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "trained.yaml"
    result = run("train", "two_layer", "-o", str(out), "--plot", str(tmp_path / "c.png"))
    assert result.exit_code == 2 and not out.exists()
    assert result.stderr == (
        "backprop: error: --plot needs matplotlib: pip install 'backprop-cli[plot]', "
        "or for a pipx install: pipx inject backprop-cli matplotlib pillow\n"
    )
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "PIL", None)
    result = run("train", "saddle", "--animate", str(tmp_path / "a.gif"))
    assert result.exit_code == 2 and "needs matplotlib and pillow: pip install" in result.stderr


def test_the_progress_bar_ends_at_the_loss_the_summary_gives(run):
    result = run("train", "perceptron", "--steps", "5", env={"TTY_COMPATIBLE": "1", "COLUMNS": "100"})
    final = re.search(r"→ (\S+)", result.stdout).group(1)
    bar = re.findall(r"loss (\S+)", result.stderr)
    assert bar and bar[-1] == final, (bar, final)
