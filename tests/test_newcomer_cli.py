"""A newcomer's first hour (issue 21): graphs from stdin, plain piped tables, progress only on a terminal, shell
completion, --help that teaches, suggestions that run as printed, `examples --copy`, and 'wrote FILE' lines."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest
from click.shell_completion import BashComplete, FishComplete, ZshComplete

import backprop_cli
from backprop_cli.cli import COMMANDS, main
from backprop_cli.commands.help_examples import EXAMPLES, PAGES
from backprop_cli.examples import bundled

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "80", "NO_COLOR": "1"}
PIPED = {"TTY_COMPATIBLE": "0", "COLUMNS": "80"}
CIRCUIT = (ROOT / "graphs" / "circuit.yaml").read_text()
QUADRATIC = "params: {w: 3.0}\nnodes: {L: (w - 1) ** 2}\noutput: L\n"


def _command(name: str):
    import importlib

    return importlib.import_module(f"backprop_cli.commands.{name}").command


# ------------------------------------------------------------ - reads the graph from stdin
@pytest.mark.parametrize(
    "args",
    [
        ["trace", "-", "--json"],
        ["gradcheck", "-", "--json"],
        ["jacobian", "-", "--json"],
        ["hessian", "-", "--json"],
        ["train", "-", "--steps", "3", "--json"],
        ["render", "-", "-o", "-", "--format", "dot"],
    ],
)
def test_every_command_taking_a_graph_reads_it_from_stdin(run, args):
    text = QUADRATIC if args[0] in ("train", "hessian", "jacobian") else CIRCUIT
    piped = run(*args, input=text)
    assert piped.exit_code == 0, piped.stderr
    name = "circuit" if text == CIRCUIT else None
    if args[0] != "render":
        data = json.loads(piped.stdout)
        assert data.get("file", "<stdin>") == "<stdin>"
        if name:  # the same answers as from the file
            from_file = json.loads(run(*[name if a == "-" else a for a in args]).stdout)
            assert {k: v for k, v in data.items() if k != "file"} == {k: v for k, v in from_file.items() if k != "file"}
    else:
        assert piped.stdout.startswith("digraph")


def test_stdin_data_files_are_relative_to_the_current_folder(run, tmp_path, monkeypatch):
    (tmp_path / "x.csv").write_text("1\n2\n3\n")
    graph = "inputs: {x: {file: x.csv}}\nparams: {w: 2.0}\nnodes: {L: sum((w * x) ** 2)}\noutput: L\n"
    monkeypatch.chdir(tmp_path)
    result = run("trace", "-", "--json", input=graph)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["values"]["L"] == 56.0
    monkeypatch.chdir(tmp_path.parent)
    elsewhere = run("trace", "-", input=graph)
    assert elsewhere.exit_code == 2 and elsewhere.stderr.startswith("backprop: error: <stdin>:1:20: no such file")


def test_stdin_mistakes_are_one_line(run, monkeypatch):
    empty = run("trace", "-", input="")
    assert empty.exit_code == 2 and empty.stderr == "backprop: error: <stdin>: stdin is empty: pipe a graph file in\n"
    twice = run("gradcheck", "-", "-", input=CIRCUIT)
    assert twice.exit_code == 2 and "give - once" in twice.stderr
    bad = run("trace", "-", input="nodes: {f: x ^ 2}\ninputs: {x: 1}\noutput: f\n")
    assert bad.exit_code == 2 and bad.stderr.startswith("backprop: error: <stdin>:1:14: '^' is not a power here")


def test_a_terminal_on_stdin_is_refused_not_waited_for(monkeypatch):
    from backprop_cli.errors import UsageError
    from backprop_cli.fileformat import read_stdin

    class Terminal:
        closed = False

        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    with pytest.raises(UsageError, match="stdin, which is a terminal: pipe a file in"):
        read_stdin()


# ------------------------------------------------------------ piped output: plain, no box, no padding
@pytest.mark.parametrize("args", [["ops"], ["gradcheck", "circuit"], ["gradcheck", "mlp_float32"], ["trace", "gates"]])
def test_piped_tables_are_plain_columns(run, args):
    out = run(*args, env=PIPED).stdout
    lines = out.splitlines()
    assert not re.search("[│┃┏┡└├━─]", out), out[:300]
    assert all(line == line.rstrip() for line in lines)  # no padding
    assert any(set(line) <= {"-", " "} and line for line in lines)  # the header's dashes


def test_piped_gradcheck_keeps_every_number_of_the_terminal_table(run):
    numbers, ansi = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?"), re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
    shown = ansi.sub("", run("gradcheck", "sigmoid_neuron", env={**TERMINAL, "COLUMNS": "200"}).stdout)
    terminal = set(numbers.findall(shown))
    piped = set(numbers.findall(run("gradcheck", "sigmoid_neuron", env=PIPED).stdout))
    assert terminal == piped


def test_gradcheck_progress_on_a_terminal_only(run, monkeypatch):
    from backprop_cli.outputs import progress

    monkeypatch.setattr(progress, "DELAY", 0.0)  # at once (a real run waits a second before showing a bar)
    shown = run("gradcheck", "relu_layer", "--elements", "full", env=TERMINAL)
    assert shown.exit_code == 0 and "gradcheck relu_layer: W" in shown.stderr and "12/12" in shown.stderr
    piped = run("gradcheck", "relu_layer", "--elements", "full", env=PIPED)
    assert piped.exit_code == 0 and piped.stderr == ""
    assert shown.stdout.splitlines()[-1] == piped.stdout.splitlines()[-1]  # the verdict line, untouched


# ------------------------------------------------------------ shell completion
def _complete(args: list[str], incomplete: str, shell=BashComplete) -> list[tuple[str, str]]:
    completion = shell(main, {}, "backprop", "_BACKPROP_COMPLETE")
    return [(item.type, item.value) for item in completion.get_completions(args, incomplete)]


def test_completion_of_commands_and_example_names():
    assert _complete([], "tr") == [("plain", "trace"), ("plain", "train")]
    names = [p.stem for p in bundled()]
    for command in ("trace", "gradcheck", "render", "train", "jacobian", "hessian", "examples"):
        got = _complete([command], "sig")
        assert got[0] == ("file", "sig")  # first: bash falls back to file names where no name matches
        assert [v for t, v in got[1:]] == [n for n in names if n.startswith("sig")], command
    assert _complete(["trace"], "graphs/") == [("file", "graphs/")]  # a path: file names only
    assert _complete(["gradcheck", "circuit"], "zig") == [("file", "zig"), ("plain", "zigzag")]  # GRAPH...


def test_every_file_and_folder_option_completes_file_names():
    """A new option taking a FILE or DIR cannot forget: every one of every command is checked."""
    checked = 0
    for name in COMMANDS:
        for param in _command(name).params:
            metavar = param.metavar or ""
            if "FILE" in metavar or "DIR" in metavar:
                flag = param.opts[0]
                got = _complete([name, "circuit", flag] if name != "examples" else [name, "circuit", flag], "ou")
                assert got == [("dir" if "DIR" in metavar else "file", "ou")], (name, flag, got)
                checked += 1
    assert checked >= 8  # render -o/--steps, train -o/--plot/--animate, jacobian -o, hessian -o, examples --copy


def test_completion_scripts_and_the_completion_protocol(run):
    for shell in ("bash", "zsh", "fish"):
        script = run(env={"_BACKPROP_COMPLETE": f"{shell}_source"})
        assert script.exit_code == 0 and "_BACKPROP_COMPLETE" in script.stdout, shell
    answer = run(env={"_BACKPROP_COMPLETE": "bash_complete", "COMP_WORDS": "backprop trace circ", "COMP_CWORD": "2"})
    assert answer.stdout.splitlines() == ["file,circ", "plain,circuit"]
    assert [v for _, v in _complete(["trace"], "circ", ZshComplete)] == ["circ", "circuit"]
    assert [v for _, v in _complete(["trace"], "circ", FishComplete)] == ["circ", "circuit"]


def test_the_completion_docs_give_each_shells_line():
    text = (ROOT / "docs" / "completion.md").read_text()
    for line in ("_BACKPROP_COMPLETE=bash_source backprop", "_BACKPROP_COMPLETE=zsh_source backprop"):
        assert line in text
    assert "_BACKPROP_COMPLETE=fish_source backprop" in text


# ------------------------------------------------------------ --help, suggestions
@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_examples_that_run_and_a_manual_page_that_exists(run, name, tmp_path, monkeypatch):
    text = run(name, "--help").stdout
    shown = re.search(r"Examples:\n((?:    backprop .*\n)+)", text).group(1).splitlines()
    assert [line.strip() for line in shown] == list(EXAMPLES[name])
    page = re.search(r"Manual: (\S+) in backprop's repository", text.replace("\n  ", " ")).group(1)
    assert page == PAGES.get(name, f"docs/commands/{name}.md") and (ROOT / page).is_file()
    monkeypatch.chdir(tmp_path)  # the examples write their files here
    for line in EXAMPLES[name]:
        words = shlex.split(line)
        result = run(*words[1:])
        assert result.exit_code == 0, (line, result.stderr)


def test_a_mistyped_command_gets_the_nearest(run):
    result = run("trac", "circuit")
    assert result.exit_code == 2
    assert result.stderr.startswith("backprop: error: No such command 'trac'. Did you mean 'trace'? (see '")
    assert "The commands: trace, gradcheck" in run("frobnicate").stderr


def test_a_bundled_examples_path_outside_the_clone_names_the_command(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("render", "graphs/circuit.yaml", "-o", "my circuit.svg")
    assert result.exit_code == 2
    assert result.stderr == (
        "backprop: error: graphs/circuit.yaml: no such file; the bundled example is `circuit`: "
        "backprop render circuit -o 'my circuit.svg'\n"
    )
    again = run(*shlex.split(result.stderr.split(": backprop ", 1)[1]))
    assert again.exit_code == 0 and (tmp_path / "my circuit.svg").is_file()
    assert "backprop: error: graphs/mine.yaml: no such file\n" == run("trace", "graphs/mine.yaml").stderr


def test_every_command_the_examples_suggest_runs(run, tmp_path, monkeypatch):
    """The `about` lines `backprop examples` prints suggest commands: each one, as written, exits 0."""
    suggested = {
        "relu_jacobian": "backprop jacobian relu_jacobian --of h --wrt a",
        "zigzag": "backprop hessian zigzag",
        "rosenbrock": "train --compare sgd,momentum,adam",
        "perceptron_data": "train --batch-size 4",
    }
    for path in bundled():
        about = backprop_cli.load(path).about
        if re.search(r"\bbackprop \w+|\btrain --", about):
            assert path.stem in suggested and suggested[path.stem] in about, (path.stem, about)
    monkeypatch.chdir(tmp_path)
    for name, line in suggested.items():
        words = shlex.split(line)
        args = words[1:] if words[0] == "backprop" else [words[0], name, *words[1:]]
        result = run(*args, "--json")
        assert result.exit_code == 0, (line, result.stderr)
        if args[0] == "train":  # the race the rosenbrock line suggests: every optimizer finishes, lowering the loss
            runs = json.loads(result.stdout)["runs"]
            assert all(r["diverged_at"] is None and r["final_loss"] < r["initial_loss"] for r in runs), line


# ------------------------------------------------------------ examples: listed to fit, printed, copied
def test_examples_fit_80_columns_on_a_terminal_and_stay_whole_in_a_pipe(run):
    from rich.cells import cell_len

    terminal = run("examples", env=TERMINAL).stdout.splitlines()
    piped = run("examples", env=PIPED).stdout.splitlines()
    assert max(cell_len(line) for line in terminal) < 80
    assert len(piped) == len(bundled()) and max(len(line) for line in piped) > 80  # grep finds a whole line
    assert " ".join(" ".join(terminal).split()) == " ".join(" ".join(piped).split())  # the same words


def test_examples_name_prints_the_file_and_copy_writes_it(run, tmp_path, monkeypatch):
    assert run("examples", "circuit").stdout == CIRCUIT
    monkeypatch.chdir(tmp_path)
    copied = run("examples", "circuit", "--copy")
    assert copied.exit_code == 0 and copied.stderr == "wrote circuit.yaml\n"
    assert (tmp_path / "circuit.yaml").read_text() == CIRCUIT
    again = run("examples", "circuit", "--copy")
    assert again.exit_code == 2 and "circuit.yaml exists; add --force to replace it" in again.stderr
    (tmp_path / "circuit.yaml").write_text("mine")
    assert run("examples", "circuit", "--copy", "--force", "-q").stderr == ""
    assert (tmp_path / "circuit.yaml").read_text() == CIRCUIT
    into = run("examples", "zigzag", "--copy", "new")  # a folder is made (its parent must exist, as for --steps)
    assert into.exit_code == 0 and (tmp_path / "new" / "zigzag.yaml").is_file()
    assert run("trace", "new/zigzag.yaml").exit_code == 0
    assert "did you mean 'circuit'?" in run("examples", "circut").stderr


def test_examples_copy_brings_the_data_files(run, tmp_path, monkeypatch):
    from backprop_cli import examples as bundled_examples

    shipped = tmp_path / "shipped"
    (shipped / "data").mkdir(parents=True)
    (shipped / "data" / "x.csv").write_text("1\n2\n")
    (shipped / "fit.yaml").write_text(
        "inputs: {x: {file: data/x.csv}}\nparams: {w: 1.0}\nnodes: {L: sum(w * x)}\noutput: L\n"
    )
    monkeypatch.setattr(bundled_examples, "examples_dir", lambda: shipped)
    target = tmp_path / "mine"
    result = run("examples", "fit", "--copy", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"wrote {target / 'fit.yaml'} and {target / 'data' / 'x.csv'}\n"
    assert json.loads(run("trace", str(target / "fit.yaml"), "--json").stdout)["values"]["L"] == 3.0


# ------------------------------------------------------------ every file written is said, the same way
@pytest.mark.parametrize(
    ("args", "written"),
    [
        (["render", "circuit", "-o", "c.svg"], ["c.svg"]),
        (["jacobian", "relu_jacobian", "--of", "h", "--wrt", "a", "-o", "j.svg"], ["j.svg"]),
        (["hessian", "zigzag", "-o", "h.svg"], ["h.svg"]),
        (["train", "perceptron", "--steps", "2", "-o", "t.yaml"], ["t.yaml"]),
        (["examples", "circuit", "--copy"], ["circuit.yaml"]),
    ],
)
def test_every_command_that_writes_says_wrote_and_quiet_silences_it(run, tmp_path, monkeypatch, args, written):
    monkeypatch.chdir(tmp_path)
    said = run(*args)
    assert said.exit_code == 0 and f"wrote {' and '.join(written)}\n" in said.stderr, said.stderr
    for name in written:
        (tmp_path / name).unlink()
    quiet = run(*args, "-q")
    assert quiet.exit_code == 0 and "wrote" not in quiet.stderr and all((tmp_path / n).is_file() for n in written)


def test_a_loss_cell_names_its_labels_once(run):
    out = run("trace", "mlp_float32", env=PIPED).stdout
    assert "labels: labels:" not in out and "labels: none (class labels are not differentiated)" in out


@pytest.mark.parametrize("command", ["jacobian", "hessian"])
def test_a_png_heat_map_without_matplotlib_stops_before_any_work(run, tmp_path, monkeypatch, command):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run(command, "zigzag", "-o", str(tmp_path / "m.png"))
    assert result.exit_code == 2 and result.stdout == "" and not (tmp_path / "m.png").exists()
    assert "needs matplotlib: pip install 'backprop-cli[plot]', or for a pipx install: pipx inject" in result.stderr
    assert run(command, "zigzag", "-o", str(tmp_path / "m.svg")).exit_code == 0  # .svg needs nothing
