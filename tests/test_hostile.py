"""The hostile corpus (issue 5): every bad input gives one clear line, the documented exit code, no traceback.

A case whose protection, were it to regress, would hang, recurse without end or allocate without bound (the
limits on size, nesting and memory: ISOLATED below, and every generated case) runs the CLI in a process of its own
limited to 3 s of CPU and 1 GiB of address space, so a hang, a crash (segfault) or a runaway allocation fails the
case (a fork of a server that imported backprop once, tests/forked_cli.py: ~30 ms a case instead of Python's 0.35 s
start-up). The limits keep 5x headroom over what the cases cost on a loaded 2-core machine
(0.4 s each; the 19,999-character expression 2.4 s, and 12 s of its own): tight enough to catch a hang. The other corpus cases run in-process through click's CliRunner, with the same
assertions: exit code, one line on stderr, no traceback (an exception escaping fails the test), the position.

- tests/hostile/NNN_name.yaml: a file whose first line says what must happen:
      # expect: exit 2 at 4:6: words the error line contains
  `at L:C` is the file position the line must name (`at L:` the line only); for exit 0 the words only
  describe the case. Optional lines `# values: {f: 33}` and `# gradients: {x: 0}` check `trace --json`
  against numbers worked out by hand.
- GENERATED below: inputs too big, too deep or too binary to keep as files, made in a temporary folder.
- Path cases (`-o` of train and render, plugin paths) run only once those commands exist.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
from pathlib import Path

import forked_cli
import pytest
import yaml

CORPUS = Path(__file__).parent / "hostile"
ROOT = Path(__file__).resolve().parent.parent
CPU_SECONDS = 3  # each case costs up to 0.4 s of CPU (Python's start-up most of it)
LONG_CPU_SECONDS = 12  # the 19,999-character expression: 2.4 s
MEMORY = 2**30
HEADER = re.compile(r"^\ufeff?# expect: exit (\d)(?: at (\d+):(\d*))?: (.*)$")
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COLUMNS": "120"}


def backprop(*args: str, cwd: Path = ROOT, cpu: int = CPU_SECONDS) -> subprocess.CompletedProcess:
    """The CLI in a process of its own under the corpus limits (CPU time, address space, and a wall-clock guard)."""
    limits = {resource.RLIMIT_CPU: cpu, resource.RLIMIT_AS: MEMORY}
    return forked_cli.backprop(*args, cwd=cwd, env=ENV, limits=limits, timeout=cpu * 5)


def in_process(*args: str) -> subprocess.CompletedProcess:
    """The CLI through CliRunner, for a case that needs no limits: no Python start-up per case."""
    from click.testing import CliRunner

    from backprop_cli.cli import main

    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "120"}, catch_exceptions=False)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def assert_clean_failure(result: subprocess.CompletedProcess, code: int, words: str, where: str | None = None) -> None:
    """Exit code as documented, exactly one line on stderr (warnings aside), no traceback, the words, the place."""
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stderr[-500:]}"
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == code, f"exit {result.returncode}, wanted {code}: {result.stderr[-500:]}"
    errors = [line for line in result.stderr.splitlines() if ": warning: " not in line]
    assert len(errors) == 1, result.stderr[-2000:]
    assert errors[0].startswith("backprop: error: "), errors[0]
    assert words in errors[0], errors[0]
    if where:
        assert f"error: {where}" in errors[0], errors[0]


# ------------------------------------------------------------------ the corpus files
# Cases run under the limits in a process of their own: without the protection they test, each would expand, allocate
# gigabytes or (100_out_of_memory) needs the address-space limit to happen at all.
ISOLATED = {
    "007_billion_laughs",
    "096_shape_100000_squared",
    "097_shape_2_to_70",
    "098_shape_65_dims",
    "099_graph_over_8_gib",
    "100_out_of_memory",
    "111_shape_mismatch_before_allocating",
    "112_leaves_too_big_together",
    "172_shape_2_62_squared_and_0",
    "173_shape_2_63_and_0",
}


def corpus() -> list:
    return [pytest.param(path, id=path.stem) for path in sorted(CORPUS.glob("*.yaml"))]


def test_the_isolated_cases_exist():
    assert ISOLATED <= {path.stem for path in CORPUS.glob("*.yaml")}, "a renamed case would lose its limits"


def expectation(path: Path) -> tuple[int, str | None, str, dict]:
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    m = HEADER.match(lines[0])
    assert m, f"{path.name}: the first line must be `# expect: exit N[ at L:C]: words`"
    code, line, column, words = m.groups()
    where = None if line is None else f"{path}:{line}:{column}" if column else f"{path}:{line}:"
    checks = {}
    for extra in lines[1:3]:
        key, _, value = extra.lstrip("# ").partition(": ")
        if extra.startswith("# ") and key in ("values", "gradients"):
            checks[key] = {
                k: None if v == "null" else float(v) for k, v in yaml.load(value, Loader=yaml.BaseLoader).items()
            }  # keys as written
    return int(code), where, words, checks


def test_the_corpus_has_at_least_100_cases():
    assert len(corpus()) >= 100


@pytest.mark.parametrize("path", corpus())
def test_corpus_case(path, tmp_path):
    code, where, words, checks = expectation(path)
    result = (backprop if path.stem in ISOLATED else in_process)("trace", str(path), "--json")
    if code != 0:
        assert_clean_failure(result, code, words, where)
        return
    assert result.returncode == 0, result.stderr[-2000:]
    assert all(": warning: " in line for line in result.stderr.splitlines()), result.stderr
    if words.startswith("warning:"):
        assert words in result.stderr
    out = json.loads(result.stdout)
    for key, expected in checks.items():
        for name, number in expected.items():
            if number is None:  # no gradient exists (version 2, issue 23): null with its reason
                assert out[key][name] is None and name in out["no_gradient"], f"{key}[{name}]"
                continue
            assert out[key][name] == pytest.approx(number, rel=1e-12, abs=1e-300), f"{key}[{name}]"


# ------------------------------------------------------------------ generated cases
def _graph(node: str, inputs: str = "{x: 1}") -> str:
    return f"inputs: {inputs}\nnodes:\n  f: {node}\noutput: f\n"


def _late_list(n: int) -> bytes:
    return ("inputs: {x: [" + "1.25, " * n + "oops]}\nnodes:\n  f: sum(x)\noutput: f\n").encode()


def _late_node(n: int) -> bytes:
    chain = "".join(f"  n{i}: n{i - 1} * 2\n" for i in range(1, n))
    return f"inputs: {{x: 1}}\nnodes:\n  n0: x * 2\n{chain}  bad: [n{n - 1}, 1]\noutput: n0\n".encode()


def _million_gates() -> str:
    expression = "+".join(["x"] * 9000)
    return "inputs: {x: 1}\nnodes:\n" + "".join(f"  n{i}: {expression}\n" for i in range(112)) + "output: n0\n"


GENERATED = {
    # name: (the file content, made when the case runs; exit code, words, position or None)
    "empty_file": (lambda: b"", 2, "file is empty", None),
    "non_utf8_latin1_name": (lambda: _graph("2 * na\xefve", "{na\xefve: 1}").encode("latin-1"), 2, "not UTF-8", "1:12"),
    "utf16_file": (lambda: _graph("2 * x").encode("utf-16"), 2, "not UTF-8", "1:1"),
    "huge_file_33_MiB": (
        lambda: b"# " + b"x" * (33 * 2**20) + b"\n" + _graph("x").encode(),
        2,
        "larger than 32 MiB",
        None,
    ),
    "flow_nesting_50000": (
        lambda: ("x: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(),
        2,
        "nesting deeper than 64",
        "1:",
    ),
    "block_nesting_50000": (lambda: ("x:\n" + "- " * 50_000 + "\n").encode(), 2, "nesting deeper than 64", "2:"),
    "nesting_50000_after_apostrophe": (
        lambda: ("about: it's\nx: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(),
        2,
        "nesting deeper than 64",
        "2:",
    ),
    "nesting_50000_after_hash": (
        lambda: ("x: [a#b, " + "[" * 50_000 + "]" * 50_000 + "]\n").encode(),
        2,
        "nesting",
        "1:",
    ),
    "question_keys_50000": (lambda: ("? " * 50_000 + "a\n").encode(), 2, "keys must be plain names", "1:3"),
    "parentheses_10000": (lambda: _graph("(" * 10_000 + "x" + ")" * 10_000).encode(), 2, "longer than 20000", "3:6"),
    "parentheses_5000": (lambda: _graph("(" * 5_000 + "x" + ")" * 5_000).encode(), 2, "nested deeper than 100", "3:"),
    "unary_minus_10000": (lambda: _graph("-" * 10_000 + "x").encode(), 2, "nested deeper than 100", "3:"),
    "expression_25000_chars": (lambda: _graph(" + ".join(["x"] * 6250)).encode(), 2, "longer than 20000", "3:6"),
    "million_node_lines": (
        lambda: (
            "inputs: {x: 1}\nnodes:\n" + "".join(f"  n{i}: x\n" for i in range(1_000_000)) + "output: n0\n"
        ).encode(),
        2,
        "more than the 50,000",
        None,
    ),
    "million_node_flow": (
        lambda: (
            "inputs: {x: 1}\nnodes: {" + ", ".join(f"n{i}: x" for i in range(1_000_000)) + "}\noutput: n0\n"
        ).encode(),
        2,
        "more than the 50,000",
        None,
    ),
    "million_gates_in_112_lines": (
        lambda: _million_gates().encode(),
        2,
        "operators and calls, more than the 25,000",
        "3:3",
    ),
    # issue 20: text that is not UTF-8 is named, not "control characters (U+0000)"
    "utf16le_without_bom": (
        lambda: _graph("2 * x").encode("utf-16-le"),
        2,
        "UTF-16 (little-endian, no byte-order",
        "1:1",
    ),
    "utf32_with_bom": (lambda: _graph("2 * x").encode("utf-32"), 2, "is UTF-32 (little-endian) text", "1:1"),
    # the first trial's bad_late_list / bad_late_100k: a slip at the end of a big file fails fast
    "late_bad_element_of_100k": (
        lambda: _late_list(100_000),
        2,
        "100,004 lines and commas, more than the 50,000",
        None,
    ),
    "late_bad_element_of_20k": (
        lambda: _late_list(20_000),
        2,
        "a value must be a number, not 'oops'",
        f"1:{14 + 6 * 20_000}",
    ),
    "late_list_node_after_10k_nodes": (lambda: _late_node(10_000), 2, "node 'bad' must be an expression", "10003:8"),
    "late_list_node_after_100k_nodes": (lambda: _late_node(100_000), 2, "more than the 50,000", None),
}


@pytest.mark.parametrize("name", GENERATED)
def test_generated_case(name, tmp_path):
    content, code, words, position = GENERATED[name]
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content())
    result = backprop("trace", str(path))
    assert_clean_failure(result, code, words, f"{path}:{position}" if position else None)


def test_a_19999_character_expression_is_handled_within_the_limits(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(_graph("+".join(["x"] * 10_000)))  # 19,999 characters: 9,999 add gates
    result = backprop("trace", str(path), "--json", cpu=LONG_CPU_SECONDS)
    assert result.returncode == 0, result.stderr[-500:]
    out = json.loads(result.stdout)
    assert out["values"]["f"] == 10_000 and out["gradients"]["x"] == 10_000


@pytest.mark.parametrize(
    "target, words",
    [("/dev/zero", "larger than 32 MiB"), (".", "is a directory"), ("no/such/dir/g.yaml", "no such file")],
)
def test_files_that_are_not_graph_files(target, words):
    assert_clean_failure(backprop("trace", target), 2, words)


def test_nan_from_the_command_line_names_the_leaf():
    assert_clean_failure(in_process("trace", "circuit", "--at", "x=nan"), 3, "leaf 'x' contains NaN")


# ------------------------------------------------------------------ plugin code is never run without consent
def test_plugin_ops_are_not_imported_without_allow_python(tmp_path):
    (tmp_path / "evil.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    graph = tmp_path / "sub" / "g.yaml"
    graph.parent.mkdir()
    graph.write_text("ops:\n  evil: {module: ../evil.py, forward: f}\ninputs: {x: 1}\nnodes: {f: evil(x)}\noutput: f\n")
    assert_clean_failure(backprop("trace", str(graph)), 2, "--allow-python", f"{graph}:2:")
    assert not (tmp_path / "ran").exists()


def _command_exists(name: str) -> bool:
    return name in in_process("--help").stdout.split("Commands:")[-1].split()


def test_plugin_module_outside_the_graph_folder_is_refused(tmp_path):
    if not _command_exists("gradcheck"):
        pytest.skip("gradcheck is not registered yet")
    (tmp_path / "evil.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    graph = tmp_path / "sub" / "g.yaml"
    graph.parent.mkdir()
    for module in ("../evil.py", str(tmp_path / "evil.py")):
        graph.write_text(
            f"ops:\n  evil: {{module: {module!r}, forward: f}}\ninputs: {{x: 1}}\nnodes: {{f: evil(x)}}\noutput: f\n"
        )
        result = backprop("gradcheck", str(graph), "--allow-python")
        assert_clean_failure(result, 2, "", f"{graph}:")
        assert not (tmp_path / "ran").exists(), f"{module} was imported"


# ------------------------------------------------------------------ -o into places that cannot take a file
TRAINABLE = "inputs: {x: 2}\nparams: {w: 0.5}\nnodes:\n  loss: (w * x - 1) ** 2\noutput: loss\n"
OUTPUT_ARGS = {"train": ["--steps", "2", "-q"], "render": []}


def _bad_targets(tmp_path: Path) -> list[tuple[Path, str]]:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    targets = [(tmp_path / "missing" / "out.yaml", "missing folder"), (tmp_path, "a directory")]
    if os.geteuid() != 0:  # root writes into read-only folders anyway
        targets.append((locked / "out.yaml", "read-only folder"))
    targets.append((Path("/proc/version"), "read-only file"))
    return targets


@pytest.mark.parametrize("command", ["train", "render"])
def test_output_into_a_place_that_cannot_take_it(command, tmp_path):
    if not _command_exists(command):
        pytest.skip(f"{command} is not registered yet")
    graph = tmp_path / "g.yaml"
    graph.write_text(TRAINABLE)
    for target, what in _bad_targets(tmp_path):
        result = backprop(command, str(graph), *OUTPUT_ARGS[command], "-o", str(target))
        assert result.returncode == 2, f"-o {what}: exit {result.returncode}: {result.stderr[-500:]}"
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert str(target) in result.stderr, f"-o {what}: the message should name the path"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.yaml", "locked"], "nothing else was written"
