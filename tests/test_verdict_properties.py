"""The verdict never breaks (issue 19): gradcheck, jacobian and hessian on generated correct graphs, end to end.

The graphs come from tests/generated_graphs.py: every op of the table inside its domain, scalars to 4-d
images, broadcasting, and forks of every kind (a node read twice by one gate, read by several gates,
diamonds, the output read by a later node); a third of them all scalars (micrograd's kind, whose scalar
leaves gradcheck checks together), a quarter float32. Properties, per graph:

- gradcheck, with options drawn per graph (every --method and --elements, --samples, --directions,
  --nodes, --order 2, and in-process small batches and a low auto limit that send small graphs down the
  chunked and sampled paths): it raises nothing (in the CLI, no exit 4, and no exit 2 or 3 on a correct
  graph), and a correct graph is pass or kink, never fail;
- jacobian agrees with the engine's gradient and, with torch installed, with torch's Jacobian of a named
  node; the Hessian with torch's where every op is analytic; their verdicts are pass or kink;
- one op's reverse or forward rule multiplied by 1.25 in the op table: gradcheck fails wherever that
  changed a gradient (or tangent) beyond rounding, and names only leaves on that op's paths;
- the CLI gives the API's verdict: in-process on one file and on several files in one run, and a couple of
  runs as real processes.

Seeds: the graphs differ from run to run. BACKPROP_PROPERTY_SEED=<int> draws a run's graphs again (else
BACKPROP_HYPOTHESIS_SEED, else the clock); BACKPROP_HYPOTHESIS_SCALE=<factor> multiplies the counts. A
failure shows the seed, the graph as hypothesis shrank it, and the commands that reproduce it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from generated_graphs import Generated, examples, graphs, kink_distance
from hypothesis import HealthCheck, assume, given, reject, seed, settings
from hypothesis import strategies as st

import backprop_cli
from backprop_cli.cli import main
from backprop_cli.engines.evaluate import evaluate
from backprop_cli.engines.forward_mode import forward_mode
from backprop_cli.engines.reverse_mode import relevant, reverse_mode
from backprop_cli.errors import EvaluationError
from backprop_cli.ops import OPS
from backprop_cli.verify import check as check_module
from backprop_cli.verify import second_order as second_order_module
from backprop_cli.verify.batched import LINEAR
from backprop_cli.verify.check import METHODS, MODES, gradcheck
from backprop_cli.verify.hessian import hessian, is_labels
from backprop_cli.verify.jacobian import jacobian

SEED = int(
    os.environ.get("BACKPROP_PROPERTY_SEED") or os.environ.get("BACKPROP_HYPOTHESIS_SEED") or time.time_ns() % 2**32
)
GRADCHECK_GRAPHS = 600
DERIVATIVE_GRAPHS = 130
MUTATED_GRAPHS = 150
CLI_GRAPHS = 60
CLI_RUNS = 16  # several files in one run: 2 to 5 graphs each
PROCESS_RUNS = 2
SMALL_HESSIAN = 16  # leaf elements: torch's Hessian is a double backward per element
MUTATION = 1.25  # a rule's result multiplied by this: wrong, but no NaN
REQUIRE_TORCH = os.environ.get("BACKPROP_REQUIRE_TORCH") == "1"


def property_run(count: int):
    """Settings for a @given test: examples(count) graphs drawn from SEED, shrunk on failure."""

    def decorate(test):
        test = settings(
            max_examples=examples(count),
            deadline=None,
            database=None,
            print_blob=True,
            suppress_health_check=list(HealthCheck),
        )(test)
        return seed(SEED)(test)

    return decorate


def reproduce(text: str, args: list[str], note: str = "") -> str:
    """For a failure message: the seed, the (shrunk) graph, and the commands that reproduce it. It writes the
    graph to a file, so call it only once a check has failed (in an assert's message, which Python evaluates
    only then), never for a passing example."""
    folder = Path(tempfile.gettempdir()) / "backprop-property"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha1(text.encode()).hexdigest()[:12]}.yaml"
    path.write_text(text)
    test = os.environ.get("PYTEST_CURRENT_TEST", "tests/test_verdict_properties.py").split(" ")[0]
    return (
        f"\n\nBACKPROP_PROPERTY_SEED={SEED}; the graph (as hypothesis shrank it), written to {path}:\n{text}\n"
        f"reproduce: backprop {' '.join([*args, str(path)])}{note}\n"
        f"      or: BACKPROP_PROPERTY_SEED={SEED} python -m pytest '{test}'\n"
    )


def correct(generated: Generated) -> tuple[backprop_cli.Graph, dict[str, np.ndarray]]:
    """The graph and its values; a graph whose values overflow is not one of the correct graphs (drawn again)."""
    graph = backprop_cli.loads(generated.text)
    try:
        return graph, evaluate(graph)
    except EvaluationError:
        reject()


# ------------------------------------------------------------------ gradcheck's options


@dataclass(frozen=True)
class Options:
    method: str = "auto"
    mode: str = "auto"
    samples: int = 20
    directions: int = 2
    nodes: bool = False
    order: int = 1
    chunk: int | None = None  # verify.check.CHUNK_BYTES: a few elements per batch
    limit: int | None = None  # verify.check.AUTO_FULL_LIMIT (and --order 2's): auto samples small leaves

    def kwargs(self) -> dict:
        return {k: getattr(self, k) for k in ("method", "mode", "samples", "directions", "nodes", "order")}

    def flags(self) -> list[str]:
        flags = ["gradcheck", "--method", self.method, "--elements", self.mode]
        flags += ["--samples", str(self.samples)] * (self.mode in ("sample", "auto"))  # refused where unused
        flags += ["--directions", str(self.directions)]
        return flags + ["--nodes"] * self.nodes + ["--order", "2"] * (self.order == 2)

    @property
    def note(self) -> str:
        patched = [f"CHUNK_BYTES = {self.chunk}"] * (self.chunk is not None)
        patched += [f"AUTO_FULL_LIMIT = {self.limit}"] * (self.limit is not None)
        return f"  (with verify.check.{' and '.join(patched)})" if patched else ""

    @contextlib.contextmanager
    def patched(self):
        saved = check_module.CHUNK_BYTES, check_module.AUTO_FULL_LIMIT, second_order_module.AUTO_FULL_LIMIT
        if self.chunk is not None:
            check_module.CHUNK_BYTES = self.chunk
        if self.limit is not None:
            check_module.AUTO_FULL_LIMIT = second_order_module.AUTO_FULL_LIMIT = self.limit
        try:
            yield
        finally:
            check_module.CHUNK_BYTES, check_module.AUTO_FULL_LIMIT, second_order_module.AUTO_FULL_LIMIT = saved


@st.composite
def options(draw, patch: bool = True, costly: bool = True) -> Options:
    """gradcheck's options; patch: now and then small batches and a low auto limit (in-process only); costly:
    now and then --nodes and --order 2."""
    mode = draw(st.sampled_from(MODES))
    opts = Options(
        method=draw(st.sampled_from(METHODS)),
        mode=mode,
        samples=draw(st.sampled_from([20, 3, 1])),
        directions=draw(st.integers(1 if mode == "direction" else 0, 3)),
        nodes=costly and draw(st.sampled_from([False, False, False, False, True])),
        order=draw(st.sampled_from([1, 1, 1, 1, 1, 1, 1, 2])) if costly else 1,
    )
    if patch and draw(st.sampled_from([False, False, False, False, False, True])):
        opts = replace(opts, chunk=draw(st.sampled_from([4096, 65536])), limit=draw(st.sampled_from([None, 5])))
    return opts


def cheap(graph: backprop_cli.Graph, opts: Options) -> Options:
    """--order 2 takes a Hessian-vector product per element checked (two gradients, and more near kinks): on big
    leaves a sample of at most 5 elements per leaf (20 of each of a dozen leaves took a second a graph)."""
    elements = sum(int(np.prod(n.shape, dtype=np.int64)) for n in graph.leaves)
    if opts.order == 2 and elements > 24 and opts.mode in ("auto", "full", "sample"):
        return replace(opts, mode="sample", samples=min(opts.samples, 5))
    return opts


def statuses(report) -> dict[str, str]:
    return {name: leaf.status for name, leaf in report.leaves.items()} | {
        f"{name} (second order)": leaf.status for name, leaf in report.second_order.items()
    }


def findings(report) -> str:
    lines = [f"{report.status}: {statuses(report)}"]
    for name, leaf in [*report.leaves.items(), *report.second_order.items()]:
        lines += [f"  {name}: {f}" for f in leaf.findings if f.status == "fail"] + [
            f"  {name}: {n}" for n in leaf.notes
        ]
    return "\n".join(lines + report.errors)


# ------------------------------------------------------------------ gradcheck never fails a correct graph

PATHS = ["scalar leaves together", "full", "sample", "direction", "complex", "richardson", "central", "float32"]
PATHS += ["nodes", "order 2", "a node read twice by one gate", "a shared node", "the output read", "small batches"]


def paths(graph: backprop_cli.Graph, text: str, report, opts: Options) -> set[str]:
    """What a run went through, so that the test can tell every path was taken."""
    leaves = [leaf for leaf in report.leaves.values() if leaf.kind != "gate"]
    taken = {leaf.mode for leaf in leaves} | {leaf.method for leaf in leaves}
    taken |= {"scalar leaves together"} if sum(leaf.shape == () for leaf in leaves) > 1 else set()
    taken |= {"float32"} if report.dtype == "float32" else set()
    taken |= {"nodes"} if len(leaves) < len(report.leaves) else set()
    taken |= {"order 2"} if report.second_order else set()
    taken |= {"small batches"} if opts.chunk else set()
    twice = any(len(set(n.inputs)) < len(n.inputs) for n in graph.gates if all(isinstance(x, str) for x in n.inputs))
    taken |= {"a node read twice by one gate"} if twice else set()
    taken |= {"a shared node"} if "\n  m1:" in text else set()
    taken |= {"the output read"} if "\n  after_f:" in text else set()
    return taken


def test_gradcheck_passes_or_finds_a_kink_on_every_correct_graph():
    seen = Counter()

    @property_run(GRADCHECK_GRAPHS)
    @given(graphs(scalars=True, float32=True), options())
    def check(generated, opts):
        graph, _ = correct(generated)
        opts = cheap(graph, opts)
        with opts.patched():
            try:
                report = gradcheck(graph, **opts.kwargs())
            except Exception as err:  # the CLI's exit 4 (or 2, 3 on a correct graph)
                message = f"{type(err).__name__}: {err}{reproduce(generated.text, opts.flags(), opts.note)}"
                raise AssertionError(message) from err
        assert report.status in ("pass", "kink"), findings(report) + reproduce(generated.text, opts.flags(), opts.note)
        seen.update(paths(graph, generated.text, report, opts) | {"graphs"})
        seen[report.status] += 1

    check()
    print(f"gradcheck on {seen['graphs']} generated graphs (seed {SEED}): {dict(seen)}")
    assert seen["graphs"] >= examples(GRADCHECK_GRAPHS) * 0.9, f"too many graphs rejected: {dict(seen)}"
    assert all(seen[p] for p in PATHS), f"paths never taken: {[p for p in PATHS if not seen[p]]} in {dict(seen)}"


# ------------------------------------------------------------------ jacobian and hessian agree with the engine and torch


@pytest.fixture(scope="module")
def oracle():
    """tests/torch_oracle.py, or None without torch (a failure when BACKPROP_REQUIRE_TORCH=1)."""
    try:
        import torch_oracle
    except ImportError as missing:
        if REQUIRE_TORCH:
            pytest.fail(f"BACKPROP_REQUIRE_TORCH=1 but torch cannot be imported: {missing}", pytrace=False)
        return None
    return torch_oracle


def close(ours: np.ndarray, theirs: np.ndarray, float32: bool, scale: float) -> bool:
    rtol, atol = (2e-4, 2e-5) if float32 else (1e-8, 1e-11)
    return bool(np.allclose(ours, theirs, rtol=rtol, atol=atol * max(1.0, scale)))


def test_jacobian_and_hessian_agree_with_the_engine_and_torch(oracle):
    seen = Counter()

    @property_run(DERIVATIVE_GRAPHS)
    @given(graphs(scalars=True, float32=True), st.data())
    def check(generated, data):
        graph, values = correct(generated)
        float32 = graph.dtype == np.float32
        grads = reverse_mode(graph, values)
        names = [n for n in generated.differentiable if not is_labels(graph, n)]  # not only compared or indices
        assume(names)
        scale = max(float(np.max(np.abs(grads[n]), initial=0.0)) for n in names)
        wrt = data.draw(st.sampled_from(names), label="wrt")
        mode = data.draw(st.sampled_from(["auto", "reverse", "forward"]), label="mode")
        args = ["jacobian", "--wrt", wrt, "--mode", mode]
        ours = jacobian(graph, wrt=wrt, mode=mode)
        assert ours.status in ("pass", "kink"), f"{ours.check}{reproduce(generated.text, args)}"
        assert close(ours.array, grads[wrt], float32, scale), f"{ours.array} vs {grads[wrt]}" + reproduce(
            generated.text, args
        )
        of = data.draw(st.sampled_from(list(generated.trees)), label="of")  # a named node, or f
        node = jacobian(graph, of=of, wrt=wrt, mode=mode)
        args = ["jacobian", "--of", of, "--wrt", wrt, "--mode", mode]
        assert node.status in ("pass", "kink"), f"{node.check}{reproduce(generated.text, args)}"
        smooth = kink_distance(graph, values) > 1e-6  # both libraries on the same side of every kink
        if oracle is not None and not float32 and smooth:
            theirs = oracle.jacobian(generated, of, wrt)
            assert close(node.array, theirs, False, float(np.max(np.abs(theirs), initial=0.0))), reproduce(
                generated.text, args
            )
            seen["jacobian vs torch"] += 1
        if sum(generated.leaves[n].value.size for n in names) <= SMALL_HESSIAN:
            second = hessian(graph, names)
            args = ["hessian", *(f"--wrt={n}" for n in names)]
            assert second.status in ("pass", "kink"), f"{second.check}{reproduce(generated.text, args)}"
            seen["hessian"] += 1
            if oracle is not None and not float32 and smooth and second.method == "complex":
                theirs = oracle.hessian(generated, names)
                assert close(second.matrix, theirs, False, float(np.max(np.abs(theirs), initial=0.0))), reproduce(
                    generated.text, args
                )
                seen["hessian vs torch"] += 1
        seen["graphs"] += 1

    check()
    print(f"jacobian and hessian on {seen['graphs']} generated graphs (seed {SEED}): {dict(seen)}")
    assert seen["graphs"] >= examples(DERIVATIVE_GRAPHS) * 0.9 and seen["hessian"], dict(seen)
    assert oracle is None or (seen["jacobian vs torch"] and seen["hessian vs torch"]), dict(seen)


# ------------------------------------------------------------------ a perturbed rule fails, naming a leaf on its path


@contextlib.contextmanager
def in_the_table(op):
    """op as the op table's entry for its name (what a graph loaded meanwhile uses)."""
    saved = OPS[op.name]
    OPS[op.name] = op
    try:
        yield
    finally:
        OPS[op.name] = saved


def perturbed(op, kind: str, slot: int):
    def wrong(*args, **attrs):
        return MUTATION * rule(*args, **attrs)

    rules = list(getattr(op, kind))
    rule = rules[slot]
    rules[slot] = wrong
    return replace(op, **{kind: tuple(rules)})


def upstream(graph: backprop_cli.Graph, gates: set[str]) -> set[str]:
    """The nodes with a path into any of the gates."""
    found = set(gates)
    for node in reversed(graph.gates):
        if node.name in found:
            found.update(x for x in node.inputs if isinstance(x, str))
    return found


def changes(graph, broken, values, kind: str, leaves: list[str], rng) -> dict[str, tuple[float, float]]:
    """Per leaf, (how far the perturbed engine's gradient, or tangent along a random direction, moved; its size)."""
    weights = np.ones(np.shape(values[graph.output]))
    out = {}
    if kind == "vjp":
        before, after = reverse_mode(graph, values, seed=weights), reverse_mode(broken, values, seed=weights)
        for n in leaves:
            out[n] = float(np.max(np.abs(after[n] - before[n]), initial=0.0)), float(np.max(np.abs(before[n])))
        return out
    for n in leaves:
        u = {n: rng.standard_normal(graph.nodes[n].shape)}
        a, b = forward_mode(graph, values, u)[graph.output], forward_mode(broken, values, u)[graph.output]
        out[n] = float(np.max(np.abs(b - a))), float(np.max(np.abs(a)))
    return out


def test_a_perturbed_rule_fails_naming_only_leaves_on_its_path():
    seen = Counter()

    @property_run(MUTATED_GRAPHS)
    @given(graphs(scalars=True), st.data())
    def check(generated, data):
        graph, values = correct(generated)
        on_path = relevant(graph, None)
        slots = sorted(
            {
                (node.op, i)
                for node in graph.gates
                if node.name in on_path and not node.operation.stops_gradient
                for i, (x, rule) in enumerate(zip(node.inputs, node.operation.vjp, strict=False))
                if isinstance(x, str) and rule is not None
            }
        )
        assume(slots)
        op, slot = data.draw(st.sampled_from(slots), label="op, slot")
        kind = data.draw(st.sampled_from(["vjp"] if op in LINEAR else ["vjp", "jvp"]), label="rule")
        wrong = perturbed(OPS[op], kind, slot)
        with in_the_table(wrong):
            broken = backprop_cli.loads(generated.text)
            report = gradcheck(broken)
        leaves = [n for n in generated.differentiable if n in report.leaves]
        moved = changes(graph, broken, values, kind, leaves, np.random.default_rng(0))
        overall = max([size for _, size in moved.values()] + [abs(float(values[graph.output]))])
        significant = {n for n, (d, size) in moved.items() if d > 1e-3 * size and d > 1e-7 * overall}
        failing = {n for n, leaf in report.leaves.items() if leaf.status == "fail"}
        on_kinks = {n for n, leaf in report.leaves.items() if leaf.status == "kink"}  # no derivative to be wrong about
        mutated = {node.name for node in broken.gates if node.op == op}
        how = f"{op}'s {kind}[{slot}] times {MUTATION}: failing {sorted(failing)}, changed {sorted(significant)}"
        note = f"  (with {op}'s {kind}[{slot}] times {MUTATION})"
        assert significant <= failing | on_kinks, how + reproduce(generated.text, ["gradcheck"], note)
        assert failing <= upstream(broken, mutated), (
            "a leaf off the perturbed op's paths fails: " + how + reproduce(generated.text, ["gradcheck"], note)
        )
        seen["graphs"] += 1
        seen["caught"] += bool(significant)
        seen[f"caught {kind}"] += bool(significant)

    check()
    print(f"perturbed rules on {seen['graphs']} generated graphs (seed {SEED}): {dict(seen)}")
    assert seen["caught vjp"] >= examples(MUTATED_GRAPHS) // 4 and seen["caught jvp"], dict(seen)


# ------------------------------------------------------------------ the CLI gives the API's verdict


def written(folder: Path, generated: Generated) -> Path:
    path = folder / f"{hashlib.sha1(generated.text.encode()).hexdigest()[:12]}.yaml"
    path.write_text(generated.text)
    return path


def api_verdicts(generated: Generated, opts: Options):
    graph = backprop_cli.loads(generated.text)
    try:
        evaluate(graph)
    except EvaluationError:
        return None
    return gradcheck(graph, **opts.kwargs())


def cli_verdicts(document: dict) -> dict[str, str]:
    return {name: leaf["status"] for name, leaf in document["leaves"].items()} | {
        f"{name} (second order)": leaf["status"] for name, leaf in (document.get("second_order") or {}).items()
    }


def test_the_cli_gives_the_apis_verdict_on_one_file_and_on_several():
    seen = Counter()
    with tempfile.TemporaryDirectory() as folder:

        @property_run(CLI_GRAPHS)
        @given(graphs(scalars=True, float32=True), options(patch=False, costly=False))
        def one(generated, opts):
            graph, _ = correct(generated)
            opts = cheap(graph, opts)
            report = gradcheck(graph, **opts.kwargs())
            result = CliRunner().invoke(main, [*opts.flags(), "--json", str(written(Path(folder), generated))])
            assert result.exit_code == (0 if report.passed else 1), result.output + reproduce(
                generated.text, opts.flags()
            )
            document = json.loads(result.stdout)
            verdicts = (document["status"], cli_verdicts(document))
            assert verdicts == (report.status, statuses(report)), reproduce(generated.text, opts.flags())
            seen["graphs"] += 1

        one()

        @property_run(CLI_RUNS)
        @given(st.lists(graphs(scalars=True, float32=True), min_size=2, max_size=5), options(False, False))
        def several(batch, opts):
            reports = [api_verdicts(g, opts) for g in batch]
            batch = [g for g, r in zip(batch, reports, strict=True) if r is not None]
            reports = [r for r in reports if r is not None]
            assume(len(batch) > 1)
            flags = opts.flags()
            paths = [str(written(Path(folder), g)) for g in batch]
            result = CliRunner().invoke(main, [*flags, "--json", *paths])
            expected = max(0 if r.passed else 1 for r in reports)
            texts = "\n".join(g.text for g in batch)
            assert result.exit_code == expected, result.output + reproduce(texts, flags, " (each graph of them)")
            files = json.loads(result.stdout)["files"]
            assert [cli_verdicts(f) for f in files] == [statuses(r) for r in reports], reproduce(texts, flags)
            seen["graphs"] += len(batch)

        several()
    print(f"the CLI in-process on {seen['graphs']} generated graphs (seed {SEED})")
    assert seen["graphs"] >= examples(CLI_GRAPHS) * 0.9 + examples(CLI_RUNS), dict(seen)


def test_real_processes_give_the_apis_verdict(tmp_path):
    """The CLI as users run it, on several generated graphs in one run each, with the issue's graph and
    micrograd's (tests/verdict_cases/) among them."""
    cases = Path(__file__).parent / "verdict_cases"
    fixed = [cases / "issue_19_sum_squared.yaml", cases / "micrograd_more_ops.yaml"]
    runs = []

    @property_run(PROCESS_RUNS)
    @given(st.lists(graphs(scalars=True), min_size=3, max_size=3))
    def draw(batch):
        runs.append(batch)

    draw()
    for batch in runs:
        reports = [api_verdicts(g, Options()) for g in batch]
        paths = [written(tmp_path, g) for g, r in zip(batch, reports, strict=True) if r is not None] + fixed
        reports = [r for r in reports if r is not None] + [gradcheck(backprop_cli.load(p)) for p in fixed]
        command = [sys.executable, "-m", "backprop_cli", "gradcheck", "--json", *map(str, paths)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        expected = max(0 if r.passed else 1 for r in reports)
        assert done.returncode == expected, done.stderr + reproduce("\n".join(p.read_text() for p in paths), [])
        files = json.loads(done.stdout)["files"]
        assert [cli_verdicts(f) for f in files] == [statuses(r) for r in reports]
