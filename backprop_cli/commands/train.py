"""`backprop train`: the lectures' optimizers on a graph's params, its output as the loss."""

from __future__ import annotations

import click

from ..errors import UsageError
from ..fileformat.training_defaults import MAX_STEPS, learning_rate
from ..training.optimizers import RANGES
from .options import (
    Finite,
    Whole,
    command_line,
    complete_file,
    epilog,
    graph_argument,
    graph_options,
    load_graph,
    renamed_option,
    reports_errors,
    seed_option,
)
from .output_options import output_options

DEFAULT_OPTIMIZER, DEFAULT_STEPS = "sgd", 100  # where the graph file's `train:` names none


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


@click.command(epilog=epilog("train"))
@graph_argument
@graph_options
@click.option(
    "--optimizer",
    help="sgd, momentum, nesterov, adagrad, rmsprop or adam (as NPFL114 writes them); newton or lbfgs. "
    "Default: the graph file's train: optimizer, else sgd.",
)
@click.option(
    "--compare",
    metavar="LIST",
    help="Several optimizers from the same start, e.g. sgd,momentum,adam or sgd:lr=1e-3,adam:lr=0.1.",
)
@click.option(
    "--steps",
    type=click.IntRange(1, MAX_STEPS),
    help="Number of updates. Default: the graph file's train: steps, else 100.",
)
@click.option(
    "--lr",
    type=_hyper("lr"),
    help="Learning rate α (α0 of a schedule). Default: the graph file's train: lr, else the optimizer's own.",
)
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
@click.option("--batch-size", type=Whole(1, 2**31), help="Minibatches of N examples of the inputs marked `data: true`.")
@seed_option("Seed of the minibatch sampling.")
@click.option(
    "--every",
    type=click.IntRange(1, MAX_STEPS),
    default=1,
    show_default=True,
    help="JSON: the loss of every k-th step.",
)
@click.option(
    "--plot",
    metavar="FILE",
    shell_complete=complete_file,
    help="Loss curves (.svg, .png, .pdf); with two scalar params, the contour too.",
)
@click.option(
    "--animate",
    metavar="FILE",
    shell_complete=complete_file,
    help="The optimizers' paths step by step (.gif or .html).",
)
@click.option("--force", is_flag=True, help="Replace existing files -o writes beside FILE.yaml (large params, .npy).")
@output_options(
    "train",
    file_help="FILE.yaml: the graph with the trained params; or the output in the format FILE's name says "
    "(.json, .txt; .svg, .png, .pdf: --plot's picture; .gif, .html: --animate's).",
    format_help="Output format: table (default: a summary line per optimizer), json (schema backprop.train, the "
    "losses), yaml (the trained graph: with -o).",
    quiet_help="No progress bar, no summary and no 'wrote FILE' lines.",
)
@reports_errors(flags={"every": "--drop-every"})  # the step schedule's every
def train(graph: str, output, **options) -> None:
    """Train GRAPH's params with gradient descent; its output is the loss."""
    from ..outputs.files import check_output
    from ..outputs.formats.yaml import check_trained
    from ..training.loop import Training
    from ..training.optimizers import make_optimizer

    options["quiet"] = output.quiet
    formats = {fmt for _, _, fmt in output.files} | {output.stdout}
    for option, suffixes in (("--plot", (".svg", ".png", ".pdf")), ("--animate", (".gif", ".html"))):
        path = options[option[2:]]
        if path is not None:
            check_output(option, path, suffixes)
            output.add(option, path)
    if "yaml" in formats and options["compare"]:
        raise UsageError("-o writes one optimizer's params; use --optimizer instead of --compare")
    if output.stdout in PICTURES + ("yaml",):
        raise UsageError(f"{output.stdout} is written to a file: give -o FILE")
    if options["compare"] and options["optimizer"] is not None:
        raise UsageError("--optimizer and --compare both name the optimizers: give one of them")
    given = click.get_current_context().get_parameter_source
    if given("every") is not click.core.ParameterSource.DEFAULT and "json" not in formats:
        raise UsageError("--every thins the losses of --json: add --json, or leave --every out")
    output.check()
    pictures = [fmt for _, _, fmt in output.files if fmt in PICTURES]
    if pictures:
        from ..outputs.formats.plots import check_can_draw

        check_can_draw(pictures)  # before any work: say how to install matplotlib
    loaded = load_graph(graph, options["at"], options["allow_python"])
    trained = next((path for option, path, fmt in output.files if fmt == "yaml"), None)
    check_trained(loaded, trained, options["force"], output)  # before any training: nothing it reads is overwritten
    steps = options["steps"] or loaded.training.get("steps", DEFAULT_STEPS)
    optimizers = [make_optimizer(name, **hyper) for name, hyper in _runs(options, loaded.training)]
    schedule_params = {key: options[opt] for opt, key in SCHEDULE_OPTIONS.items() if options[opt] is not None}
    _check_schedule_options(options["schedule"], schedule_params)
    settings = {
        "schedule": options["schedule"],
        "schedule_params": schedule_params,
        "batch_size": options["batch_size"],
        "seed": options["seed"],
    }

    runs, suggested, retries = _race(loaded, optimizers, steps, settings, options)
    for run in runs:
        for note in run.notes:
            click.echo(f"backprop: warning: {note}", err=True)
    schedule = {"name": options["schedule"], **schedule_params}
    result = Training(
        loaded, runs, steps, options["every"], schedule, options["batch_size"], options["seed"], suggested, retries
    )
    output.show(result, loaded)
    if output.stdout != "table" or output.quiet:
        for k, run in enumerate(runs):
            if not run.finished:
                retry = f"; with a smaller learning rate it trains: {retries[k]}" if k in retries else ""
                click.echo(f"backprop: warning: {run.optimizer} {run.diverged_text()}{retry}", err=True)


PICTURES = ("svg", "png", "pdf", "gif", "html")


def _race(loaded, optimizers: list, steps: int, settings: dict, options: dict) -> tuple[list, dict, dict]:
    """Each optimizer's run: a diverged one stops and the race goes on, with the learning rate it trains with
    (run index -> lr) and the command that runs it (run index -> command line), where one is found. When every
    run diverged, that is the error (exit 3)."""
    import time

    from ..outputs.progress import training_progress as progress
    from ..training.loop import train as run_training

    runs, seconds = [], []
    for optimizer in optimizers:  # an error: with --json, reports_errors writes it as the one JSON document
        with progress(optimizer, steps, options["quiet"]) as bar:
            started = time.monotonic()
            run = run_training(loaded, optimizer, steps, **settings, on_step=bar.step, keep_diverged=True)
            seconds.append((time.monotonic() - started) / max(1, len(run.losses)))
            bar.done(run)
        runs.append(run)
    suggested = {}
    for k, run in enumerate(runs):
        if not run.finished:
            lr = _smaller(loaded, run, steps, settings, seconds[k], options["quiet"])
            if lr is not None:
                suggested[k] = lr
    retries = {}
    if options["compare"]:
        items = options["compare"].split(",")
        for k, lr in suggested.items():
            retries[k] = command_line({"--compare": ",".join(_with_lr(items, {k: lr}))})
        together = command_line({"--compare": ",".join(_with_lr(items, suggested))})
    else:
        retries = {k: command_line({"--lr": f"{lr:g}"}) for k, lr in suggested.items()}
        together = retries.get(0)
    if not any(run.finished for run in runs):
        _all_diverged(runs, together if len(suggested) == len(runs) else None)
    return runs, suggested, {k: line for k, line in retries.items() if line is not None}


def _with_lr(items: list[str], rates: dict[int, float]) -> list[str]:
    """--compare's items with the learning rates of rates (item index -> lr) in place of the ones given."""
    out = list(items)
    for k, lr in rates.items():
        name, *given = [part.strip() for part in items[k].split(":")]
        out[k] = ":".join([name, *[g for g in given if g.partition("=")[0].strip() != "lr"], f"lr={lr:g}"])
    return out


def _all_diverged(runs: list, retry: str | None) -> None:
    from ..errors import EvaluationError

    hint = f"; it trains with a smaller learning rate: {retry}" if retry else "; try a smaller learning rate"
    if len(runs) > 1:
        said = "; ".join(f"{r.optimizer} (lr={r.hyper['lr']:g}) {r.diverged_text()}" for r in runs)
        hint = f"; they train with smaller learning rates: {retry}" if retry else "; try smaller learning rates"
        raise EvaluationError(f"training diverged for every optimizer: {said}{hint}")
    run = runs[0]
    text = run.diverged_text().replace(f" ({run.diverged})", "")
    hint = hint if retry else f"{hint} than {run.hyper['lr']:g}"
    raise EvaluationError(
        f"training {text} ({run.optimizer}, lr={run.hyper['lr']:g}): {run.diverged}{hint}", run.diverged_where
    )


def _smaller(loaded, run, steps: int, settings: dict, seconds_per_step: float, quiet: bool) -> float | None:
    """A smaller learning rate with which the run trains (tried, quietly; with a status line on a terminal)."""
    from rich.console import Console

    from ..training.smaller_rate import smaller_rate

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        return smaller_rate(loaded, run.optimizer, run.hyper, steps, seconds_per_step, settings)
    with console.status(f"{run.optimizer} diverged: trying smaller learning rates") as status:

        def on_try(lr: float) -> None:
            status.update(f"{run.optimizer} diverged: trying lr={lr:g}")

        return smaller_rate(loaded, run.optimizer, run.hyper, steps, seconds_per_step, settings, on_try)


def _runs(options: dict, defaults: dict) -> list[tuple[str, dict[str, float]]]:
    """(optimizer, hyper-parameters) per run: the --compare list or --optimizer, with the shared options, over
    the graph file's `train:` defaults (its optimizer; its learning rate for each optimizer)."""
    from ..fileformat.option_values import name_list
    from ..training.optimizers import OPTIMIZERS

    shared = {key: options[opt] for opt, key in HYPER_OPTIONS.items() if options[opt] is not None}
    if options["compare"] is not None:
        items = name_list("--compare", options["compare"])
    else:
        items = [options["optimizer"] or str(defaults.get("optimizer", DEFAULT_OPTIMIZER))]
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
        from_file = {"lr": learning_rate(defaults, name)} if learning_rate(defaults, name) is not None else {}
        runs.append((name, {**from_file, **{k: v for k, v in shared.items() if k in takes or not takes}, **own}))
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
