"""Issue 25: leaves drawn per student, require: conditions, the kink margin, and `backprop worksheet`.

Oracles: the keys against the engine run on the numbers parsed back from the sheets a student reads; the
seeds against an HMAC computed here with hashlib; the conditions against NumPy on the drawn values."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backprop_cli
from backprop_cli.fileformat.variants import VERSION_TAG, student_seed, version

# the lecture's circuit with drawn numbers: q = x + y must be positive (a ReLU alive), the gradient of x negative
CIRCUIT = """\
name: drawn_circuit
inputs:
  x: {int: [-9, 9]}
  y: {uniform: [-9, 9], digits: 2}
  z: {choice: [-4, -2, -1.5, 0.5, 3]}
  w: {int: [-9, 9]}
nodes:
  q: x + y
  h: relu(q)
  f: h * z + w * x
output: f
require:
  - "q >= 1"
  - "grad(x) < 0"
"""


def load(text: str):
    return backprop_cli.loads(text, "g.yaml")


def sheet_numbers(text: str) -> dict[str, float]:
    """The given numbers as a student reads them off a Markdown sheet."""
    given = text.split("## Given", 1)[1].split("##", 1)[0]
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"\| `(\w+)` \| (\S+) \|", given)}


# ------------------------------------------------------------ the graph file
def test_without_a_student_the_file_is_an_ordinary_graph_of_its_seed(run, graph_file):
    path = graph_file(CIRCUIT)
    graph = backprop_cli.load(path)
    values = graph.forward()
    assert values["q"] >= 1 and graph.backward()["x"] < 0  # its own version keeps the conditions
    assert run("gradcheck", str(path)).exit_code == 0
    other = backprop_cli.load(graph_file(CIRCUIT + "seed: 7\n", "seeded.yaml"))
    assert any(other.leaf_values[n] != graph.leaf_values[n] for n in "xyzw")  # seed: draws another version
    assert json.loads(run("trace", str(path), "--json").stdout)  # trace reads it as any graph


def test_a_student_always_gets_the_same_version_and_seeds_are_an_hmac():
    graph = load(CIRCUIT)
    first, again = version(graph, "ana", "s3cret"), version(graph, "ana", "s3cret")
    assert all(first.leaf_values[n] == again.leaf_values[n] for n in "xyzw")
    digest = hmac.new(b"s3cret", VERSION_TAG + b"\0drawn_circuit\0ana", hashlib.sha256).digest()
    assert student_seed("s3cret", "drawn_circuit", "ana") == int.from_bytes(digest, "big")
    assert student_seed("other", "drawn_circuit", "ana") != student_seed("s3cret", "drawn_circuit", "ana")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    low=st.integers(-20, 10),
    width=st.integers(0, 15),
    ulow=st.floats(-5, 5, allow_nan=False).map(lambda v: round(v, 2)),
    uwidth=st.floats(1, 10),
    digits=st.integers(0, 3),
    choices=st.lists(st.sampled_from([-2.5, -1, 0.5, 1, 3, 7]), min_size=1, max_size=4),
    bound=st.integers(-3, 3),
)
def test_generated_ranges_draw_inside_them_and_meet_generated_conditions(
    low, width, ulow, uwidth, digits, choices, bound
):
    high, uhigh = low + width, round(ulow + uwidth, 2)
    text = f"""\
name: generated
inputs:
  a: {{int: [{low}, {high}]}}
  b: {{uniform: [{ulow}, {uhigh}], digits: {digits}}}
  c: {{choice: {choices}}}
  t: {{int: [{low}, {high}], shape: [2, 2]}}
nodes:
  s: a + b * c + sum(t)
output: s
require: ["s >= {bound} - 300", "abs(grad(b)) <= 100"]  # (s >= -20 - 15 * 7 - 80: always met)
"""
    graph = load(text)
    for student in ("1", "2", "3"):
        drawn = version(graph, student, "k").leaf_values
        assert low <= drawn["a"] <= high and float(drawn["a"]).is_integer()
        assert ulow - 1e-9 <= drawn["b"] <= uhigh + 1e-9 and round(float(drawn["b"]), digits) == drawn["b"]
        assert float(drawn["c"]) in choices
        assert drawn["t"].shape == (2, 2) and np.all((low <= drawn["t"]) & (drawn["t"] <= high))
        values = dict(zip(["a", "b", "c", "t"], [drawn[n] for n in "abct"], strict=True))
        total = values["a"] + values["b"] * values["c"] + values["t"].sum()
        assert total >= bound - 300 and abs(values["c"]) <= 100  # the conditions, by NumPy


def test_a_relu_is_never_drawn_at_its_kink_unless_the_file_allows_it():
    text = "inputs: {x: {int: [-2, 2]}}\nnodes: {f: relu(x)}\noutput: f\n"
    drawn = {float(version(load(text), str(i), "k").leaf_values["x"]) for i in range(60)}
    assert 0.0 not in drawn and drawn == {-2.0, -1.0, 1.0, 2.0}
    allowed = {float(version(load(text + "kink_margin: false\n"), str(i), "k").leaf_values["x"]) for i in range(60)}
    assert 0.0 in allowed


def test_a_tensor_of_drawn_entries_keeps_its_fixed_numbers():
    graph = load("inputs: {w: [[1, {int: [5, 6]}], [{choice: [7, 8]}, 0]]}\nnodes: {f: sum(w)}\noutput: f\n")
    for student in "abc":
        w = version(graph, student, "k").leaf_values["w"]
        assert w[0, 0] == 1 and w[1, 1] == 0 and w[0, 1] in (5, 6) and w[1, 0] in (7, 8)


BAD = [
    ("inputs: {x: {int: [3, 1]}}", "low bound must be at most its high bound", 1, 19),
    ("inputs: {x: {int: [0.5, 2]}}", "int takes whole numbers", 1, 20),
    ("inputs: {x: {uniform: [1, 2], digitz: 1}}", "unknown key 'digitz'", 1, 31),
    ("inputs: {x: {int: [1, 2], choice: [1]}}", "give one of int, uniform or choice", 1, 27),
    ("inputs: {x: {choice: []}}", "choice is a list of numbers", 1, 22),
    ("inputs: {x: {int: [1, 2], digits: 2}}", "digits goes with uniform", 1, 27),
    ("inputs: {x: {uniform: [0.11, 0.12], digits: 1}}", "no number with 1 decimals", 1, 23),
    ("inputs: {x: {int: [1, 2], shape: [2, -1]}}", "sizes must be whole numbers", 1, 38),
]


@pytest.mark.parametrize(("leaf", "words", "line", "column"), BAD, ids=[b[1][:24] for b in BAD])
def test_a_bad_range_is_refused_at_its_place(run, graph_file, leaf, words, line, column):
    result = run("trace", str(graph_file(f"{leaf}\nnodes: {{f: x * 2}}\noutput: f\n")))
    assert result.exit_code == 2 and words in result.stderr, result.stderr
    assert f"g.yaml:{line}:{column}:" in result.stderr


REQUIRE = [
    ('["q >> 1"]', "g.yaml:4:"),
    ('["qq > 1"]', "require: 'qq' is not a leaf or node of the graph; did you mean 'q'?"),
    ('["__import__(1) > 0"]', "unknown function '__import__'"),
    ('["grad(2) > 0"]', "grad takes one name"),
    ("[3]", "a condition is an expression in quotes"),
    ('"q > 1"', "require is a list of conditions"),
]


@pytest.mark.parametrize(("conditions", "words"), REQUIRE)
def test_a_bad_condition_is_refused_at_its_place(run, graph_file, conditions, words):
    text = f"inputs: {{x: {{int: [1, 5]}}}}\nnodes: {{q: x * 2}}\noutput: q\nrequire: {conditions}\n"
    result = run("trace", str(graph_file(text)))
    assert result.exit_code == 2 and words in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_conditions_the_ranges_cannot_meet_say_how_often_each_held(run, graph_file):
    text = 'inputs: {x: {int: [1, 5]}}\nnodes: {q: x * 2}\noutput: q\nrequire: ["q > 4", "q > 100"]\n'
    result = run("trace", str(graph_file(text)))
    assert result.exit_code == 2 and "g.yaml:4:" in result.stderr
    held = re.search(r"'q > 4' held in (\d+) of 1000; 'q > 100' held in 0 of 1000", result.stderr)
    assert held and 500 < int(held.group(1)) < 700, result.stderr  # x in 3..5: 3 of 5 draws


def test_require_without_drawn_leaves_is_refused(run, graph_file):
    result = run("trace", str(graph_file('inputs: {x: 1}\nnodes: {q: x}\noutput: q\nrequire: ["q > 0"]\n')))
    assert result.exit_code == 2 and "applies to drawn leaves" in result.stderr


# ------------------------------------------------------------ backprop worksheet
def roster(tmp_path, count: int) -> str:
    path = tmp_path / "roster.csv"
    path.write_text("student_id,name\n" + "".join(f"s{i:03d},Student {i}\n" for i in range(count)))
    return str(path)


def test_two_hundred_students_get_two_hundred_versions_and_their_keys(run, graph_file, tmp_path):
    graph, students = str(graph_file(CIRCUIT)), roster(tmp_path, 200)
    out = tmp_path / "sheets"
    args = ["--format", "md", "--no-diagram"]  # tables alone: the drawings are test_worksheet_sheets.py's
    result = run("worksheet", graph, "--students", students, "--secret", "k", "-o", str(out), *args)
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    rows = list(csv.DictReader(io.StringIO((out / "answers.csv").read_text())))
    assert [r["id"] for r in rows] == [v["id"] for v in manifest["versions"]] == [f"s{i:03d}" for i in range(200)]
    assert manifest["columns"] == ["grad(x)", "grad(y)", "grad(z)", "grad(w)", "grad(q)", "grad(h)"]
    seen = set()
    base = load(CIRCUIT)
    for row, entry in zip(rows, manifest["versions"], strict=True):
        sheet = (out / f"{row['id']}.md").read_text()
        numbers = sheet_numbers(sheet)  # what the student reads
        assert numbers == entry["values"] and "________" in sheet and "secret" not in sheet
        seen.add(tuple(numbers.values()))
        graph_at = base.with_values(numbers)
        values, grads = graph_at.forward(), graph_at.backward()
        assert values["q"] >= 1 and grads["x"] < 0  # the conditions hold on the sheet's numbers
        for column in manifest["columns"]:
            assert float(row[column]) == pytest.approx(grads[column[5:-1]], rel=1e-12, abs=1e-12)
        key = (out / f"{row['id']}.key.md").read_text()
        assert "________" not in key and "answer key" in key
    assert len(seen) == 200
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run("worksheet", graph, "--students", students, "--secret", "k", "-o", str(out), *args)
    assert again.exit_code == 0 and {p.name: p.read_bytes() for p in out.iterdir()} == first  # deterministic
    other, few = tmp_path / "other", tmp_path / "few.csv"
    few.write_text("".join(f"s{i:03d}\n" for i in range(20)))
    run("worksheet", graph, "--students", str(few), "--secret", "k2", "-o", str(other), *args)
    others = list(csv.DictReader(io.StringIO((other / "answers.csv").read_text())))
    assert sum(a != b for a, b in zip(others, rows[:20], strict=False)) >= 18  # another secret, other versions


def test_worksheet_drawings_show_the_drawn_numbers(run, tmp_path):
    out = tmp_path / "v"
    result = run("worksheet", "relu_versions", "--variants", "2", "--secret", "k", "-o", str(out), "--format", "dot")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "1.dot", "1.key.dot", "2.dot", "2.key.dot", "answers.csv", "manifest.json"
    ]  # fmt: skip
    w9 = json.loads((out / "manifest.json").read_text())["versions"][0]["values"]["w9"]
    assert f">{w9:g}<" in (out / "1.dot").read_text() or f"{w9:g}" in (out / "1.dot").read_text()
    assert "answer key" in (out / "1.key.dot").read_text()


def test_worksheet_writes_only_where_it_may(run, graph_file, tmp_path):
    graph, out = str(graph_file(CIRCUIT)), tmp_path / "class"
    args = ["worksheet", graph, "--variants", "2", "--secret", "k", "-o", str(out), "--format", "md", "--no-diagram"]
    assert run(*args).exit_code == 0
    (out / "1.md").write_text("my own notes")
    refused = run(*args)
    assert refused.exit_code == 2 and "was not written by backprop worksheet" in refused.stderr
    assert (out / "1.md").read_text() == "my own notes"
    assert run(*args, "--force").exit_code == 0 and (out / "1.md").read_text() != "my own notes"
    assert run("worksheet", graph, "--variants", "2", "-o", str(out), "--format", "md").exit_code == 2  # no secret
    plain = run("worksheet", "circuit", "--variants", "2", "--secret", "k", "-o", str(tmp_path / "c"))
    assert plain.exit_code == 2 and "no drawn leaves" in plain.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("id\nana\nbob\nAna\n", "listed twice (first on line 2)"),
        ("id\n../etc\n", "cannot be a file name"),
        ("id\n", "lists no students"),
        ("id\nmanifest\n", "one of the folder's own files"),
    ],
)
def test_a_bad_roster_is_refused_at_its_line(run, graph_file, tmp_path, text, words):
    (tmp_path / "r.csv").write_text(text)
    args = ["worksheet", str(graph_file(CIRCUIT)), "--students", str(tmp_path / "r.csv"), "--secret", "k"]
    result = run(*args, "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and words in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------ grading a student's answers against their version
def answers_yaml(row: dict, change: dict | None = None, drop: tuple = ()) -> str:
    numbers = {c[5:-1]: float(v) for c, v in row.items() if c.startswith("grad(") and c[5:-1] not in drop}
    numbers.update(change or {})
    return "gradients:\n" + "".join(f"  {name}: {value!r}\n" for name, value in numbers.items())


@pytest.fixture
def a_class(run, graph_file, tmp_path):
    """A class of 12 with their sheets, and the graph file."""
    graph, out = str(graph_file(CIRCUIT)), tmp_path / "sheets"
    result = run(
        "worksheet", graph, "--variants", "12", "--secret", "k", "-o", str(out), "--format", "md", "--no-diagram", "-q"
    )
    assert result.exit_code == 0, result.stderr
    return graph, out, list(csv.DictReader(io.StringIO((out / "answers.csv").read_text())))


def test_right_answers_get_full_marks_and_another_students_do_not(run, a_class, tmp_path):
    graph, out, rows = a_class
    batch = run("gradcheck", graph, "--secret", "k", "--answers", str(out / "answers.csv"))
    assert batch.exit_code == 0, batch.stderr  # the key of each version, graded against that version
    graded = list(csv.DictReader(io.StringIO(batch.stdout)))
    assert [(g["id"], g["points"], g["max_points"], g["slips"]) for g in graded] == [
        (str(i), "6", "6", "") for i in range(1, 13)
    ]
    for row, other in zip(rows, rows[1:] + rows[:1], strict=True):
        (tmp_path / "a.yaml").write_text(answers_yaml(row))
        own = run("gradcheck", graph, "--student", row["id"], "--secret", "k", "--answers", str(tmp_path / "a.yaml"))
        assert own.exit_code == 0 and "6/6 points" in own.stdout, own.stdout
        copied = run(
            "gradcheck", graph, "--student", other["id"], "--secret", "k", "--answers", str(tmp_path / "a.yaml")
        )
        assert copied.exit_code == 1 and "6/6 points" not in copied.stdout  # the answers of another version
        wrong_secret = run(
            "gradcheck", graph, "--student", row["id"], "--secret", "x", "--answers", str(tmp_path / "a.yaml")
        )
        assert wrong_secret.exit_code == 1


def test_a_slip_is_named_and_a_step_right_from_a_wrong_one_is_carried_forward(run, a_class, tmp_path):
    graph, _, rows = a_class
    row = rows[0]
    truth = {c[5:-1]: float(v) for c, v in row.items() if c != "id"}
    z = float(json.loads((a_class[1] / "manifest.json").read_text())["versions"][0]["values"]["z"])
    # dL/dh wrong (5 instead of z); dL/dq is dL/dh · 1 from it: carried forward; dL/dy's sign flipped; x left out
    change = {"h": 5.0, "q": 5.0, "y": -truth["y"]}
    (tmp_path / "a.yaml").write_text(answers_yaml(row, change, drop=("x",)))
    result = run("gradcheck", graph, "--student", "1", "--secret", "k", "--answers", str(tmp_path / "a.yaml"), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    status = {a["column"]: (a["status"], a["slip"], a["points"]) for a in report["answers"]}
    assert status["grad(h)"] == ("wrong", None, 0.0) and z != 5.0
    assert status["grad(q)"][0] == "carried" and status["grad(q)"][2] == 1.0
    assert status["grad(x)"] == ("missing", None, 0.0)
    if truth["y"] != 0:
        assert status["grad(y)"] == ("wrong", "sign", 0.0)
    assert report["points"] == sum(p for _, _, p in status.values()) and report["max_points"] == 6
    text = run("gradcheck", graph, "--student", "1", "--secret", "k", "--answers", str(tmp_path / "a.yaml"))
    assert "carried forward: right from your own grad(h)" in text.stdout and "not answered" in text.stdout


def test_a_class_folder_with_a_bad_file_grades_the_others(run, a_class, tmp_path):
    graph, _, rows = a_class
    folder = tmp_path / "submitted"
    folder.mkdir()
    (folder / "1.yaml").write_text(answers_yaml(rows[0]))
    (folder / "2.yaml").write_text("gradients: {x: [1, 2\n")
    (folder / "3.yaml").write_text(answers_yaml(rows[2], {"z": 1e6}))
    result = run("gradcheck", graph, "--secret", "k", "--answers", str(folder))
    assert result.exit_code == 1
    graded = {g["id"]: g for g in csv.DictReader(io.StringIO(result.stdout))}
    assert graded["1"]["points"] == "6" and graded["1"]["error"] == ""
    assert graded["2"]["points"] == "" and "2.yaml:1:" in graded["2"]["error"]  # ungradable, not zero
    assert graded["3"]["points"] == "5" and graded["3"]["slips"] == "grad(z): wrong"


def test_grading_needs_the_secret_and_says_whose_answers(run, a_class, tmp_path):
    graph, out, rows = a_class
    (tmp_path / "a.yaml").write_text(answers_yaml(rows[0]))
    no_secret = run("gradcheck", graph, "--student", "1", "--answers", str(tmp_path / "a.yaml"))
    assert no_secret.exit_code == 2 and "--secret" in no_secret.stderr
    nobody = run("gradcheck", graph, "--secret", "k", "--answers", str(tmp_path / "a.yaml"))
    assert nobody.exit_code == 2 and "--student" in nobody.stderr
    (tmp_path / "b.yaml").write_text("gradients: {qq: 1}\n")
    typo = run("gradcheck", graph, "--student", "1", "--secret", "k", "--answers", str(tmp_path / "b.yaml"))
    assert typo.exit_code == 2 and "b.yaml:1:13" in typo.stderr and "did you mean 'q'" in typo.stderr


# ------------------------------------------------------------ PrairieLearn
def test_a_prairielearn_question_serves_the_drawn_versions_with_their_keys(run, tmp_path):
    import random

    out = tmp_path / "question"
    result = run(
        "worksheet", "relu_versions", "--variants", "6", "--secret", "k", "-o", str(out), "--format", "prairielearn"
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "answers.csv",
        "info.json",
        "manifest.json",
        "question.html",
        "server.py",
    ]
    info = json.loads((out / "info.json").read_text())
    assert {"uuid", "type", "title", "topic"} <= set(info) and info["type"] == "v3"  # PrairieLearn's required keys
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", info["uuid"])
    page = (out / "question.html").read_text()
    inputs = re.findall(r'<pl-number-input answers-name="(\w+)"[^>]* rtol="0.02" atol="1e-09">', page)
    manifest = json.loads((out / "manifest.json").read_text())
    rows = list(csv.DictReader(io.StringIO((out / "answers.csv").read_text())))
    namespace: dict = {}
    exec(compile((out / "server.py").read_text(), "server.py", "exec"), namespace)  # the generated generator
    served = set()
    for variant_seed in range(40):
        random.seed(variant_seed)  # as PrairieLearn seeds it per variant
        data = {"params": {}, "correct_answers": {}}
        namespace["generate"](data)
        index = next(i for i, v in enumerate(manifest["versions"]) if all(
            float(data["params"][leaf]) == value for leaf, value in v["values"].items()
        ))  # fmt: skip
        served.add(index)
        assert set(data["correct_answers"]) == set(inputs) and set(re.findall(r"params\.(\w+)", page)) == set(
            data["params"]
        )
        for column, text in rows[index].items():
            if column != "id":
                assert data["correct_answers"][column.replace("(", "_").rstrip(")")] == float(text)
    assert len(served) > 3  # the bank's versions are all served
