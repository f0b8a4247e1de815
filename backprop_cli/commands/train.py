"""`backprop train`: the lectures' optimizers on a graph's params, its output as the loss."""

from __future__ import annotations

import click

from ..errors import UsageError
from ..training.optimizers import RANGES
from .options import EXIT_CODES, Finite, graph_options, load_graph, renamed_option, reports_errors, seed_option

MAX_STEPS = 10_000_000  # beyond, a run takes days


def _hyper(name: str) -> Finite:
    low, high, low_in, high_in, _ = RANGES[name]
    return Finite(low, high, min_open=not low_in, max_open=not high_in)


HYPER_OPTIONS = {  # option -> the hyper-parameter it sets (on the optimizers that have it)
    "lr": "lr",
    "momentum": "momentum",
    "rho": "rho",
    "beta1": "beta1",
    "beta2": "beta2",
    "epsilon": "eps",
    "damping": "damping",
    "history": "history",
}
SCHEDULE_OPTIONS = {"decay": "k", "drop": "drop", "drop_every": "every"}


@click.command(epilog=EXIT_CODES)
@click.argument("graph")
@graph_options
@click.option(
    "--optimizer",
    default="sgd",
    show_default=True,
    help="sgd, momentum, nesterov, adagrad, rmsprop or adam (as NPFL114 writes them); newton or lbfgs.",
)
@click.option(
    "--compare",
    metavar="LIST",
    help="Several optimizers from the same start, e.g. sgd,momentum,adam or sgd:lr=1e-3,adam:lr=0.1.",
)
@click.option("--steps", type=click.IntRange(1, MAX_STEPS), default=100, show_default=True, help="Number of updates.")
@click.option("--lr", type=_hyper("lr"), help="Learning rate α (α0 of a schedule). Default: the optimizer's own.")
@click.option("--momentum", type=_hyper("momentum"), help="β of momentum and nesterov [0.9].")
@click.option("--rho", type=_hyper("rho"), help="Decay rate β of rmsprop [0.9].")
@click.option("--beta1", type=_hyper("beta1"), help="β1 of adam [0.9].")
@click.option("--beta2", type=_hyper("beta2"), help="β2 of adam [0.999].")
@renamed_option("--eps", "--epsilon", type=_hyper("eps"), help="ε of adagrad, rmsprop, adam, inside √(r + ε) [1e-8].")
@click.option("--damping", type=_hyper("damping"), help="λ of newton, added to the Hessian's diagonal [1e-3].")
@click.option("--history", type=click.IntRange(1, 1000), help="Steps lbfgs remembers [10].")
@click.option(
    "--schedule",
    type=click.Choice(["constant", "step", "exponential", "inverse", "sqrt"]),
    default="constant",
    show_default=True,
    help="α0; α0·drop^⌊t/every⌋; α0·e^(−kt); α0/(1 + kt); α0/√(t + 1), t = updates made.",
)
@click.option("--decay", type=Finite(0, 1e6), help="k of the exponential and inverse schedules [1e-3].")
@click.option("--drop", type=Finite(0, 1, min_open=True), help="Factor of the step schedule [0.5].")
@click.option("--drop-every", type=click.IntRange(1, MAX_STEPS), help="Steps between drops of the step schedule [100].")
@click.option(
    "--batch-size", type=click.IntRange(1, 2**31), help="Minibatches of N examples of the inputs marked `data: true`."
)
@seed_option("Seed of the minibatch sampling.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (schema backprop.train) with the losses.")
@click.option(
    "--every",
    type=click.IntRange(1, MAX_STEPS),
    default=1,
    show_default=True,
    help="JSON: the loss of every k-th step.",
)
@click.option("-o", "--output", "out", metavar="FILE.yaml", help="Write the graph with the trained params here.")
@click.option("--plot", metavar="FILE", help="Loss curves (.svg, .png, .pdf); with two scalar params, the contour too.")
@click.option("--animate", metavar="FILE", help="The optimizers' paths step by step (.gif or .html).")
@click.option("--force", is_flag=True, help="Replace existing files -o writes beside FILE.yaml (large params, .npy).")
@reports_errors(flags={"every": "--drop-every"})  # the step schedule's every
def train(graph: str, **options) -> None:
    """Train GRAPH's params with gradient descent; its output is the loss."""
    from ..outputs.files import check_not_inputs, inputs_of, write_files
    from ..training.loop import train as run_training
    from ..training.optimizers import make_optimizer
    from ..training.report import check_outputs, check_paths, json_object, progress, summary_lines, trained_files

    check_paths(options["out"], options["plot"], options["animate"])
    if options["out"] and options["compare"]:
        raise UsageError("-o writes one optimizer's params; use --optimizer instead of --compare")
    given = click.get_current_context().get_parameter_source
    if options["compare"] and given("optimizer") is not click.core.ParameterSource.DEFAULT:
        raise UsageError("--optimizer and --compare both name the optimizers: give one of them")
    if given("every") is not click.core.ParameterSource.DEFAULT and not options["as_json"]:
        raise UsageError("--every thins the losses of --json: add --json, or leave --every out")
    loaded = load_graph(graph, options["at"], options["allow_python"])
    paths = {"-o": options["out"], "--plot": options["plot"], "--animate": options["animate"]}
    check_outputs(loaded, paths, options["force"])  # before any training: nothing it reads is overwritten
    runs_wanted = _runs(options)
    optimizers = [make_optimizer(name, **hyper) for name, hyper in runs_wanted]
    schedule_params = {key: options[opt] for opt, key in SCHEDULE_OPTIONS.items() if options[opt] is not None}
    _check_schedule_options(options["schedule"], schedule_params)

    runs = []
    for optimizer in optimizers:  # an error: with --json, reports_errors writes it as the one JSON document
        with progress(optimizer, options["steps"], options["quiet"]) as on_step:
            runs.append(
                run_training(
                    loaded,
                    optimizer,
                    options["steps"],
                    options["schedule"],
                    schedule_params,
                    options["batch_size"],
                    options["seed"],
                    on_step,
                )
            )
    for run in runs:
        for note in run.notes:
            click.echo(f"backprop: warning: {note}", err=True)
    if options["out"]:
        written = trained_files(loaded, runs[0].params, options["out"])
        check_not_inputs([("-o", path) for path in written], inputs_of(loaded))
        write_files(written)
    if options["plot"] or options["animate"]:
        from ..training import plots

        if options["plot"]:
            plots.plot_runs(loaded, runs, options["plot"])
        if options["animate"]:
            plots.animate_runs(loaded, runs, options["animate"])
    if options["as_json"]:
        from ..outputs.json_output import emit_json

        schedule = {"name": options["schedule"], **schedule_params}
        obj = json_object(loaded, runs, options["every"], schedule, options["batch_size"], options["seed"])
        emit_json(obj)  # trained params can be millions of numbers: streamed, compact when large
    elif not options["quiet"]:
        click.echo("\n".join(summary_lines(loaded, runs, options["steps"])))


def _runs(options: dict) -> list[tuple[str, dict[str, float]]]:
    """(optimizer, hyper-parameters) per run: the --compare list or --optimizer, with the shared options."""
    from ..fileformat.option_values import name_list
    from ..training.optimizers import OPTIMIZERS

    shared = {key: options[opt] for opt, key in HYPER_OPTIONS.items() if options[opt] is not None}
    items = name_list("--compare", options["compare"]) if options["compare"] is not None else [options["optimizer"]]
    runs = []
    for item in items:
        name, *settings = [part.strip() for part in item.split(":")]
        own = {}
        for setting in settings:
            key, sep, value = setting.partition("=")
            key = key.strip()
            try:
                number = float(value)
            except (ValueError, OverflowError):
                raise UsageError(f"--compare: {setting!r} should be key=number, as in adam:lr=0.01") from None
            if not sep:
                raise UsageError(f"--compare: {setting!r} should be key=number, as in adam:lr=0.01")
            if key in own:
                raise UsageError(f"--compare: {name} sets {key} twice ({item}); give it once")
            own[key] = number
        takes = OPTIMIZERS[name].defaults if name in OPTIMIZERS else {}
        runs.append((name, {**{k: v for k, v in shared.items() if k in takes or not takes}, **own}))
    names = [name for name, _ in runs]
    for key in shared:
        if not any(key in OPTIMIZERS[n].defaults for n in names if n in OPTIMIZERS) and all(
            n in OPTIMIZERS for n in names
        ):
            option = "--" + next(opt for opt, k in HYPER_OPTIONS.items() if k == key)
            raise UsageError(f"{option} does not apply to {', '.join(names)}")
    return runs


def _check_schedule_options(schedule: str, params: dict[str, float]) -> None:
    from ..training.schedules import SCHEDULES

    for opt, key in SCHEDULE_OPTIONS.items():
        if key in params and key not in SCHEDULES[schedule].defaults:
            raise UsageError(f"--{opt.replace('_', '-')} does not apply to the {schedule} schedule")


command = train
