"""What scripts rely on (issue 11): every option value checked before any work (exit 2 naming the
option), --at/--wrt read as safely as graph files, one JSON document per --json run (errors too),
stdout that cannot take Unicode or anything at all, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

BAD_OPTIONS = [
    # (arguments, the option the message must name)
    (["render", "circuit", "-o", "x.svg", "--timeout", "nan"], "--timeout"),
    (["render", "circuit", "-o", "x.svg", "--timeout", "inf"], "--timeout"),
    (["render", "circuit", "-o", "x.svg", "--timeout", "1e300"], "--timeout"),
    (["render", "circuit", "-o", "x.svg", "--timeout", "-1"], "--timeout"),
    (["render", "circuit", "-o", "x.png", "--dpi", "99999999999"], "--dpi"),
    (["gradcheck", "circuit", "--seed", "-1"], "--seed"),
    (["gradcheck", "circuit", "--seed", "99999999999999999999999"], "--seed"),
    (["gradcheck", "circuit", "--eps", "nan"], "--eps"),
    (["gradcheck", "circuit", "--eps", "inf"], "--eps"),
    (["gradcheck", "circuit", "--eps", "0"], "--eps"),
    (["gradcheck", "circuit", "--rtol", "nan"], "--rtol"),
    (["gradcheck", "circuit", "--rtol", "-1"], "--rtol"),
    (["gradcheck", "circuit", "--atol", "nan"], "--atol"),
    (["gradcheck", "circuit", "--atol", "inf"], "--atol"),
    (["gradcheck", "circuit", "--directions", "99999999999"], "--directions"),
    (["gradcheck", "circuit", "--directions", "-1"], "--directions"),
    (["gradcheck", "circuit", "--samples", "0"], "--samples"),
    (["gradcheck", "circuit", "--samples", "99999999999"], "--samples"),
    (["train", "perceptron", "--batch-size", "4", "--seed", "-5"], "--seed"),
    (["train", "perceptron", "--batch-size", "-4"], "--batch-size"),
    (["train", "perceptron", "--batch-size", "0"], "--batch-size"),
    (["train", "perceptron", "--schedule", "inverse", "--decay", "-1"], "--decay"),
    (["train", "perceptron", "--schedule", "exponential", "--decay", "nan"], "--decay"),
    (["train", "perceptron", "--schedule", "step", "--drop", "inf"], "--drop"),
    (["train", "perceptron", "--schedule", "step", "--drop", "0"], "--drop"),
    (["train", "perceptron", "--schedule", "step", "--drop-every", "0"], "--drop-every"),
    (["train", "perceptron", "--lr", "nan"], "--lr"),
    (["train", "perceptron", "--lr", "-0.1"], "--lr"),
    (["train", "perceptron", "--lr", "inf"], "--lr"),
    (["train", "perceptron", "--optimizer", "momentum", "--momentum", "nan"], "--momentum"),
    (["train", "perceptron", "--optimizer", "momentum", "--momentum", "1"], "--momentum"),
    (["train", "perceptron", "--optimizer", "rmsprop", "--rho", "-0.5"], "--rho"),
    (["train", "perceptron", "--optimizer", "adam", "--beta1", "inf"], "--beta1"),
    (["train", "perceptron", "--optimizer", "adam", "--beta2", "1.5"], "--beta2"),
    (["train", "perceptron", "--optimizer", "adam", "--eps", "-1e-8"], "--eps"),
    (["train", "perceptron", "--steps", "0"], "--steps"),
    (["train", "perceptron", "--steps", "99999999999"], "--steps"),
    (["train", "perceptron", "--json", "--every", "0"], "--every"),
    (["train", "perceptron", "--compare", "adam:lr=nan"], "adam:lr="),
    (["train", "perceptron", "--compare", "momentum:momentum=2"], "momentum:momentum="),
    (["train", "perceptron", "--compare", "sgd:lr=1e999"], "sgd:lr="),
    (["trace", "circuit", "--at", "x="], "--at"),
    (["trace", "circuit", "--at", "x"], "--at"),
    (["trace", "circuit", "--at", "=3"], "--at"),
    (["trace", "circuit", "--at", "x=&a [1, *a]"], "--at"),
    (["trace", "circuit", "--at", "x=!!python/object/apply:os.system [ls]"], "--at"),
    (["trace", "circuit", "--at", "x={a: 1}"], "--at"),
    (["trace", "circuit", "--direction", "x=nan"], "--direction"),
    (["trace", "circuit", "--direction", "x=inf"], "--direction"),
    (["trace", "circuit", "--direction", "x="], "--direction"),
]


@pytest.mark.parametrize("args, option", BAD_OPTIONS, ids=[" ".join(a[2:]) for a, _ in BAD_OPTIONS])
def test_bad_option_value_is_a_usage_error_naming_the_option(run, tmp_path, args, option):
    result = run(*[str(tmp_path / a) if a.startswith("x.") else a for a in args])
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop: error: "), result.stderr
    assert option in lines[0], lines[0]
    assert not list(tmp_path.iterdir()), "nothing is written"


@pytest.mark.parametrize(
    "args, words",
    [
        (["trace", "circuit", "--json", "--format", "markdown"], "--json and --format markdown"),
        (["trace", "circuit", "--json", "--format", "table"], "--json and --format table"),
        (["trace", "circuit", "--mode", "reverse", "--direction", "x"], "--mode reverse"),
        (["gradcheck", "circuit", "--json", "--quiet"], "--json and --quiet"),
        (["train", "perceptron", "--compare", "sgd,adam", "--optimizer", "adam"], "--optimizer and --compare"),
        (["train", "perceptron", "--every", "5"], "--every"),
        # one leaf given two values: the last one silently won
        (["trace", "circuit", "--at", "x=1", "--at", "x=2"], "--at: x is given twice (x=1, x=2)"),
        (["gradcheck", "circuit", "circuit", "--at", "x=1", "--at", "x=2"], "--at: x is given twice"),
        (["hessian", "circuit", "--at", "z=1", "--at", "z = 2"], "--at: z is given twice"),
    ],
)
def test_contradictory_options_are_a_usage_error(run, args, words):
    result = run(*args)
    assert result.exit_code == 2 and words in result.stderr, result.stderr


def test_json_with_format_json_agrees(run):
    result = run("trace", "circuit", "--json", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["schema"] == "backprop.trace"


# ------------------------------------------------------------ --at and --wrt read safely
def test_an_alias_bomb_in_at_is_refused_at_once(run):
    bomb = "[&a [1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b], *c]"
    start = time.perf_counter()
    result = run("trace", "circuit", "--at", f"x={bomb}")
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2 and "anchors and aliases" in result.stderr


def test_a_long_value_is_cut_in_the_message(run):
    result = run("trace", "circuit", "--at", "x=[" + ", ".join(["1"] * 50_000) + ", oops]")
    assert result.exit_code == 2 and "characters)" in result.stderr and len(result.stderr) < 400, result.stderr[:500]


def test_at_and_wrt_values_still_work(run):
    out = json.loads(run("trace", "circuit", "--at", "x=3", "--at", "y=.5", "--json").stdout)
    assert out["values"]["q"] == 3.5
    out = json.loads(run("trace", "circuit", "--direction", "x=2", "--mode", "both", "--json").stdout)
    assert out["tangents"]["f"] == 2 * out["values"]["z"]  # df/dx = z, along a direction of 2


def test_nan_at_a_leaf_is_still_an_evaluation_error_naming_it(run):
    result = run("trace", "circuit", "--at", "x=nan")
    assert result.exit_code == 3 and "leaf 'x' contains NaN" in result.stderr


# ------------------------------------------------------------ one JSON document, errors included
def _one_document(text: str) -> dict:
    document = json.loads(text)  # raises on nothing or on two documents
    assert document["schema"].startswith("backprop.")
    assert document["version"] == (2 if document["schema"] == "backprop.trace" else 1)  # the schema's version
    return document


def _error_document(result, schema: str, code: int) -> dict:
    assert result.exit_code == code, result.stderr
    document = _one_document(result.stdout)
    assert document["schema"] == schema and document["exit_code"] == code
    error = document["error"]
    assert set(error) == {"message", "file", "line", "column", "exit_code"} and error["exit_code"] == code
    assert error["message"] in result.stderr
    return error


def test_json_error_of_a_bad_graph_file_has_its_position(run, graph_file):
    path = graph_file("inputs: {x: 1}\nnodes:\n  f: x^2\noutput: f\n")
    for args in (["trace", str(path), "--json"], ["trace", str(path), "--format", "json"]):
        error = _error_document(run(*args), "backprop.trace", 2)
        assert (error["file"], error["line"], error["column"]) == (str(path), 3, 7)
    error = _error_document(run("gradcheck", str(path), "--json"), "backprop.gradcheck", 2)
    assert error["line"] == 3


def test_json_error_of_an_evaluation(run):
    error = _error_document(run("trace", "circuit", "--at", "x=nan", "--json"), "backprop.trace", 3)
    assert error["line"] is not None
    result = run("train", "rosenbrock", "--optimizer", "sgd", "--lr", "1e5", "--steps", "50", "--json")
    _error_document(result, "backprop.train", 3)


def test_json_error_of_a_usage_error_before_the_command_runs(run):
    _error_document(run("gradcheck", "circuit", "--json", "--eps", "nan"), "backprop.gradcheck", 2)
    _error_document(run("train", "perceptron", "--json", "--lr", "nan"), "backprop.train", 2)


def test_multi_file_gradcheck_goes_on_after_a_bad_file(run, graph_file):
    bad = graph_file("inputs: {x: {shape: [0]}}\nnodes:\n  f: sum(reshape(x, shape=[0, -1]))\noutput: f\n", "bad.yaml")
    result = run("gradcheck", "circuit", str(bad), "circuit", "--json")
    assert result.exit_code == 2
    files = _one_document(result.stdout)["files"]
    assert [f["status"] for f in files] == ["pass", "error", "pass"]
    assert (files[1]["file"], files[1]["line"], files[1]["column"], files[1]["exit_code"]) == (str(bad), 3, 10, 2)
    assert "-1 cannot be worked out" in files[1]["message"] and files[1]["error"].startswith(str(bad))
    text = run("gradcheck", "circuit", str(bad), "circuit").stdout.splitlines()
    assert text[0].startswith("PASS") and text[1].startswith(f"ERROR  {bad}") and text[2].startswith("PASS")


@pytest.mark.parametrize("command, key", [("examples", "examples"), ("ops", "ops")])
def test_listing_commands_have_a_schema(run, command, key):
    document = _one_document(run(command, "--json").stdout)
    assert document["schema"] == f"backprop.{command}" and len(document[key]) > 10


# ------------------------------------------------------------ data files and shapes
@pytest.mark.parametrize(
    "data, words",
    [("x\n1\n2\xe9\n".encode("latin-1"), "line 3, column 2"), ("x\n1\n2\n".encode("utf-16"), "UTF-16")],
    ids=["latin-1", "utf-16"],
)
def test_a_data_file_that_is_not_utf8(run, tmp_path, data, words):
    (tmp_path / "d.csv").write_bytes(data)
    (tmp_path / "g.yaml").write_text("inputs: {x: {file: d.csv}}\nnodes:\n  f: sum(x)\noutput: f\n")
    result = run("trace", str(tmp_path / "g.yaml"))
    assert result.exit_code == 2 and f"{tmp_path / 'g.yaml'}:1:20: " in result.stderr and words in result.stderr


# ------------------------------------------------------------ output channels
def _cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        **kwargs,
    )


@pytest.mark.parametrize(
    "args",
    [["trace", "relu_layer", "--explain"], ["ops"], ["gradcheck", "sigmoid_neuron"], ["examples"]],
    ids=lambda a: " ".join(a),
)
def test_ascii_stdout_gets_ascii_fallbacks(args):
    result = _cli(*args, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr.decode()
    result.stdout.decode("ascii")  # nothing else reached it
    if args[0] == "trace":
        assert b"dL/da = dL/dh1 (*) dh1/da" in result.stdout and b"-> (4)" not in result.stderr


def test_a_full_disk_is_exit_2_with_the_reason():
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "backprop_cli", "trace", "circuit"],
            stdout=full,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert result.returncode == 2, result.stderr.decode()
    assert result.stderr.decode().strip() == "backprop: error: cannot write the output: No space left on device"


@pytest.mark.parametrize(
    "args, stdout, stderr, code",
    [
        # stdout closed (`>&-`): Python leaves sys.stdout None; every command was an internal error with tracebacks
        (["trace", "circuit", "--json"], "closed", "pipe", 2),
        (["gradcheck", "circuit"], "closed", "pipe", 2),
        # stderr closed or full: the error line is lost, but the exit code must still be the documented one (was 1)
        (["trace", "nothere"], "pipe", "closed", 2),
        (["trace", "nothere"], "pipe", "full", 2),
        (["trace", "circuit", "--at", "x=nan"], "pipe", "full", 3),
        (["gradcheck", "circuit", "-q"], "pipe", "closed", 0),
    ],
)
def test_closed_or_full_streams_keep_the_documented_exit_code(args, stdout, stderr, code):
    def stream(kind: str, fd: int) -> str:
        return {"closed": f"{fd}>&-", "full": f"{fd}>/dev/full", "pipe": ""}[kind]

    command = " ".join([sys.executable, "-m", "backprop_cli", *args, stream(stdout, 1), stream(stderr, 2)])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as users run it
    result = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}
    )
    assert result.returncode == code, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr[-2000:]
    if stdout == "closed":
        assert result.stderr.strip() == "backprop: error: cannot write the output: stdout is closed"


def _wait_for_cpu(pid: int, seconds: float) -> None:
    """Until the process has used this much CPU: Python's start-up, the imports and loading the graph take about
    0.5 s, so 1.5 s is well into the command (a fixed sleep would be a time budget that a loaded machine can
    overrun)."""
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / ticks >= seconds:  # utime + stime
            return
        time.sleep(0.1)
    raise AssertionError(f"the process used less than {seconds} s of CPU in 120 s")


def test_ctrl_c_exits_130_with_one_line():
    # Ctrl-C as a terminal delivers it to a foreground command: the suite itself may run where SIGINT is ignored
    # (a shell's background job, `cmd &`, starts with SIGINT ignored, and children inherit that; Python then leaves
    # it ignored, as it should: the test had the child ignore Ctrl-C and time out). Hence SIGINT at its default.
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_cli", "train", "two_layer", "--lr", "1e-7", "--steps", "1000000", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        _wait_for_cpu(process.pid, 1.5)  # into training (the run takes minutes), whatever the machine's load
        assert process.poll() is None, process.stderr.read().decode()
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # say what it was doing (signals pending, blocked, ignored, caught)
            status = Path(f"/proc/{process.pid}/status")
            state = [line for line in status.read_text().splitlines() if line.startswith(("State", "Sig"))]
            raise AssertionError(f"no exit 30 s after SIGINT: {state}") from None
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == 130, stderr.decode()
    assert stderr.decode().strip() == "backprop: interrupted"


def test_a_bad_at_is_one_usage_error_for_several_files(run):
    result = run("gradcheck", "circuit", "circuit", "--at", "x=")
    assert result.exit_code == 2 and result.stdout == "" and result.stderr.count("\n") == 1
