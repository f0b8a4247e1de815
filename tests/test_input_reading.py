"""What backprop reads (issue 20): CSV data as a user means it, files that are not files named as what they
are, text in other encodings named, numbers that would overflow or read as base 60 refused, names in any
Unicode form, long user text cut in messages, nested lists as numpy reads them."""

from __future__ import annotations

import json
import os
import struct
import unicodedata

import numpy as np
import pytest

GRAPH = "inputs: {{x: {{file: {name}}}}}\nnodes:\n  f: sum(x)\noutput: f\n"


def _trace_value(run, graph_file, tmp_path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    result = run("trace", str(graph_file(GRAPH.format(name=name))), "--json")
    return result, (json.loads(result.stdout)["values"]["x"] if result.exit_code == 0 else None)


# ------------------------------------------------------------ CSV: the rules
@pytest.mark.parametrize(
    "text, expected",
    [
        ('"1","2"\n"3","4"\n', [[1, 2], [3, 4]]),  # quoted numbers are numbers (a first row was dropped as a header)
        ('"x","y"\n"1","2"\n', [[1, 2]]),  # a quoted header is a header
        ("1;2\n3;4\n", [[1, 2], [3, 4]]),  # semicolons (was: the first row dropped as a header)
        ("a;b\n1.5;-2\n", [[1.5, -2]]),
        ("1\t2\n3\t4\n", [[1, 2], [3, 4]]),  # tabs
        ("1 2 3\n4 5 6\n", [[1, 2, 3], [4, 5, 6]]),  # spaces
        ("x\n1\n2\n", [1, 2]),  # one column: a vector
        ("# comment\n\nx, y\n1, 2 # a remark\n\n3, 4\n", [[1, 2], [3, 4]]),
        ("\ufeffx\r\n1\r\n2\r\n", [1, 2]),  # a byte-order mark, Windows line ends
        ('"# of items","y"\n1,2\n', [[1, 2]]),  # a # inside quotes is not a comment
        ("1,2\n3,4", [[1, 2], [3, 4]]),  # no line end at the end
    ],
)
def test_csv_files_read_as_users_mean_them(run, graph_file, tmp_path, text, expected):
    result, value = _trace_value(run, graph_file, tmp_path, "d.csv", text)
    assert result.exit_code == 0, result.stderr
    assert value == expected


@pytest.mark.parametrize(
    "text, words",
    [
        ("1,2\nx,y\n", "d.csv line 2: 'x' is not a number"),  # only the first row may be a header
        ("x,1\n2,3\n", "d.csv line 1: 'x' is not a number"),  # a row of names and numbers is no header
        ("x,y\n1,2,3\n", "d.csv line 2: 3 columns, the header (line 1) has 2"),
        ("1,2\n3\n", "d.csv line 2: 1 columns, earlier rows have 2"),
        ("a;b\n1,5;2\n", "d.csv line 2: '1,5' is not a number: a decimal comma? write 1.5"),
        ("1,,2\n", "d.csv line 1: an empty field is not a number"),
        ("x,y\n", "d.csv holds no numbers"),
        ("\n\n# nothing\n", "d.csv holds no numbers"),
        ("x\n1\n2\xe9\n".encode("latin-1"), "d.csv line 3, column 2: byte 0xe9 is not UTF-8"),
        ("x\n1\n2\n".encode("utf-16-le"), "d.csv is UTF-16 (little-endian, no byte-order mark) text"),
        ("x\n1\n2\n".encode("utf-16"), "UTF-16 (little-endian) text"),
    ],
)
def test_csv_mistakes_are_named_never_dropped(run, graph_file, tmp_path, text, words):
    result, _ = _trace_value(run, graph_file, tmp_path, "d.csv", text)
    assert result.exit_code == 2 and words in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_generated_csv_files_read_back_exactly(run, graph_file, tmp_path):
    """Matrices written the ways spreadsheets and scripts write them read back to the last bit."""
    rng = np.random.default_rng(20)
    for case in range(12):
        rows, cols = int(rng.integers(1, 6)), int(rng.integers(2, 5))
        matrix = rng.standard_normal((rows, cols)) * 10.0 ** rng.integers(-5, 6, (rows, cols))
        sep = str(rng.choice([",", ";", "\t", " ", ", "]))
        quote = bool(rng.integers(2))
        lines = ["# written by a generator"] if rng.integers(2) else []
        if rng.integers(2):
            lines.append(sep.join(f'"c{k}"' if quote else f"c{k}" for k in range(cols)))
        for row in matrix:
            lines.append(sep.join(f'"{float(v)!r}"' if quote and sep.strip() else repr(float(v)) for v in row))
            if rng.integers(4) == 0:
                lines.append("")
        result, value = _trace_value(run, graph_file, tmp_path, f"m{case}.csv", "\n".join(lines) + "\n")
        assert result.exit_code == 0, (lines, result.stderr)
        np.testing.assert_array_equal(np.array(value), matrix, err_msg=str(lines))


def test_a_mistake_far_into_a_big_csv_names_its_line(run, graph_file, tmp_path):
    """Read in blocks by numpy's parser; a block it refuses is read line by line: the line is still exact."""
    lines = ["a,b"] + [f"{k},{k / 7!r}" for k in range(80_000)]
    lines[70_001] = "70000,7e"
    result, _ = _trace_value(run, graph_file, tmp_path, "big.csv", "\n".join(lines) + "\n")
    assert result.exit_code == 2 and "big.csv line 70002: '7e' is not a number" in result.stderr, result.stderr
    lines[70_001] = "70000,1.0"
    result, value = _trace_value(run, graph_file, tmp_path, "big.csv", "\n".join(lines) + "\n")
    assert result.exit_code == 0 and len(value) == 80_000 and value[70_000] == [70000, 1.0]


# ------------------------------------------------------------ data files that are not files, or not readable
def test_a_fifo_or_a_folder_as_a_data_file_says_what_it_is(run, graph_file, tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")  # never opened: reading it would wait forever
    (tmp_path / "folder.npy").mkdir()
    for name, words in (("pipe.csv", "is a named pipe (FIFO)"), ("folder.npy", "is a directory")):
        result = run("trace", str(graph_file(GRAPH.format(name=name))))
        assert result.exit_code == 2 and words in result.stderr and "g.yaml:1:20" in result.stderr, result.stderr


def test_an_npy_header_with_a_huge_shape_is_refused_without_a_warning(run, graph_file, tmp_path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
    header += " " * (63 - len(header) % 64) + "\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(64)
    result, _ = _trace_value(run, graph_file, tmp_path, "huge.npy", data)  # a RuntimeWarning would be an error here
    assert result.exit_code == 2 and "needs 137,438,953,472.0 GiB, more than the 2 GiB" in result.stderr


def test_an_npy_with_33_axes_is_refused_at_its_file_value(run, graph_file, tmp_path):
    np.save(tmp_path / "deep.npy", np.ones((1,) * 33))
    result = run("trace", str(graph_file(GRAPH.format(name="deep.npy"))))
    assert result.exit_code == 2 and "g.yaml:1:20: the value has 33 dimensions, more than the 32" in result.stderr


@pytest.mark.parametrize("key", ["file", "module"])
def test_a_nul_in_a_file_name_is_a_clear_error(run, graph_file, key):
    text = (
        'inputs: {x: {file: "a\\u0000b.csv"}}\nnodes: {f: sum(x)}\noutput: f\n'
        if key == "file"
        else 'ops:\n  k: {module: "a\\u0000b.py", forward: f, backward: b}\ninputs: {x: 1}\nnodes: {f: k(x)}\noutput: f\n'
    )
    result = run("trace", str(graph_file(text)), "--allow-python")
    assert result.exit_code == 2 and "cannot hold a NUL character" in result.stderr, result.stderr


# ------------------------------------------------------------ numbers
@pytest.mark.parametrize(
    "args, words",
    [
        (["--at", "x=1e39"], "beyond the range of float32"),
        (["--grad-output", "1e39"], "beyond the range of float32"),
        (["--at", "x=[1, 2:30]"], "2:30 is a YAML 1.1 base-60 number (it would read as 150)"),
        (["--grad-output", "1:30"], "1:30 is a YAML 1.1 base-60 number (it would read as 90)"),
        (["--direction", "x=1:30"], "base-60"),
    ],
)
def test_numbers_on_the_command_line_that_would_change_are_refused(run, graph_file, args, words):
    path = graph_file("dtype: float32\ninputs: {x: 1.5}\nnodes:\n  f: x * 2\noutput: f\n")
    result = run("trace", str(path), *args)  # a RuntimeWarning (float32 overflow) would be an error here
    assert result.exit_code == 2 and words in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_floats_without_a_point_are_numbers_in_grad_output_too(run, graph_file):
    path = graph_file("inputs: {x: [1.0, 2.0]}\nnodes:\n  f: x * 3\noutput: f\n")
    result = run("trace", str(path), "--json", "--grad-output", "[1e-3, 2E2]")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gradients"]["x"] == [3e-3, 600.0]


def test_a_float32_data_file_beyond_its_range_is_refused(run, graph_file, tmp_path):
    (tmp_path / "d.csv").write_text("1\n1e39\n")
    result = run("trace", str(graph_file("dtype: float32\n" + GRAPH.format(name="d.csv"))))
    assert result.exit_code == 2 and "beyond the range of float32" in result.stderr, result.stderr


def test_nested_lists_are_read_as_numpy_reads_them():
    """The literal reader against numpy on generated lists: rectangular ones give numpy's array, ragged or
    uneven ones (numpy: inhomogeneous) are an error naming a position."""
    import backprop_cli
    from backprop_cli.errors import GraphFileError

    rng = np.random.default_rng(7)

    def draw(depth: int):
        if depth == 0 or rng.integers(5) == 0:
            return float(rng.integers(-9, 9))
        width = int(rng.integers(0, 4))
        return [draw(depth - 1) for _ in range(width)]

    agreed = ragged = 0
    for _ in range(400):
        value = draw(int(rng.integers(1, 5)))
        try:
            expected = np.array(value, dtype=np.float64)
        except ValueError:
            expected = None
        text = f"inputs: {{x: {json.dumps(value)}}}\nnodes: {{f: x * 1}}\noutput: f\n"
        try:
            got = backprop_cli.loads(text).leaf_values["x"]
        except GraphFileError as err:
            assert expected is None, (value, err)
            assert err.where is not None and err.where.line == 1, err
            ragged += 1
            continue
        assert expected is not None, value
        np.testing.assert_array_equal(got, expected)
        assert got.shape == expected.shape, value
        agreed += 1
    assert agreed > 100 and ragged > 50


# ------------------------------------------------------------ names
def test_names_in_nfd_and_nfc_are_one_name_everywhere(run, graph_file):
    nfd, nfc = unicodedata.normalize("NFD", "café"), "café"
    path = graph_file(f"inputs: {{{nfd}: 3}}\nnodes:\n  {nfc}2: {nfd} * 2\noutput: {nfd}2\n")
    result = run("trace", str(path), "--json", "--at", f"{nfd}=4")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["values"] == {nfc: 4.0, f"{nfc}2": 8.0}
    assert run("gradcheck", str(path), "-q", "--wrt", nfd).exit_code == 0


# ------------------------------------------------------------ what a message echoes
def test_long_user_text_is_cut_in_messages(run, graph_file):
    key = "k" * 2_000_000
    path = graph_file(f"inputs: {{x: 1}}\nnodes: {{f: x}}\noutput: f\n{key}: 1\n")
    result = run("trace", str(path), "--json")
    assert result.exit_code == 2 and len(result.stderr) < 600 and "a key of 2,000,000 characters" in result.stderr
    assert len(json.loads(result.stdout)["error"]["message"]) < 600
    path = graph_file(f"inputs: {{x: 1}}\nnodes: {{f: x, {key}: x}}\noutput: f\n")  # a name: cut, not whole
    result = run("trace", str(path))
    assert result.exit_code == 2 and len(result.stderr) < 600, result.stderr[:300]
    result = run("train", "rosenbrock", "--optimizer", "z" * 100_000)
    assert result.exit_code == 2 and len(result.stderr) < 600, result.stderr[:300]
    path = graph_file(f"inputs: {{x: 1}}\nnodes: {{f: x}}\noutput: {'o' * 1_000_000}\n")
    result = run("trace", str(path))
    assert result.exit_code == 2 and len(result.stderr) < 600 and "is not a node" in result.stderr


def test_a_file_name_that_is_not_utf8_is_shown_escaped_and_kept_apart_in_json(run, tmp_path):
    path = os.fsdecode(os.fsencode(str(tmp_path)) + b"/\xfe.yaml")
    with open(path, "w") as stream:
        stream.write("inputs: {x: 1}\nnodes: {f: x +}\noutput: f\n")
    result = run("trace", path, "--json")
    error = json.loads(result.stdout)["error"]
    assert result.exit_code == 2 and error["message"].startswith("expected a number") and error["line"] == 2
    assert "\\udcfe.yaml:2:15: expected" in result.stderr
