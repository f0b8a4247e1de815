"""What the benchmarks share: alternated rounds, processes in the default environment, a busy core.

- Ratios are taken within one run, the two sides alternating, so the machine's noise hits both alike.
- A process is run in the environment the benchmark itself was started in, minus the BLAS thread settings
  a benchmark sets for its own in-process figures (a user's shell has none): that is what users meet.
  Process times are given as wall-clock time and as CPU time (user + system of the child: on a shared
  machine, other programs' load moves the first much more than the second).
- "Another process busy on one core": a child spinning in a loop while the processes are timed, as when an
  autograder runs checks side by side.
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

THREAD_SETTINGS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def default_env(**changes: str | None) -> dict[str, str]:
    """This process's environment without the BLAS thread settings, with changes (None removes a variable)."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_SETTINGS}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """Another process busy on one core for the duration."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"], env=default_env())
    try:
        time.sleep(0.2)  # let it start spinning
        yield
    finally:
        spinner.kill()
        spinner.wait()


def run_process(command: list[str], env: dict[str, str], cwd: str | None = None) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the child) of one run; the command must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def alternate_processes(
    commands: dict[str, list[str]], env: dict[str, str], rounds: int, cwd: str | None = None
) -> dict[str, dict[str, list[float]]]:
    """{name: {"wall": [...], "cpu": [...]}}, the commands taking turns in every round after one warm-up each."""
    for command in commands.values():
        run_process(command, env, cwd)
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            wall, cpu = run_process(command, env, cwd)
            times[name]["wall"].append(wall)
            times[name]["cpu"].append(cpu)
    return times


def alternate_calls(fns: dict[str, Callable[[], object]], rounds: int, number: int, clock=time.process_time):
    """Seconds per call of each function, one figure per round; the functions take turns in every round."""

    def per_call(fn: Callable[[], object]) -> float:
        start = clock()
        for _ in range(number):
            fn()
        return (clock() - start) / number

    for fn in fns.values():  # warm-up: caches, BLAS buffers, backprop's per-graph plans
        per_call(fn)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(per_call(fn))
    return times


def ratio_line(times: dict, name: str, base: str, target: float | None, key: str | None = None) -> str:
    """The ratio of medians (and of bests), with the verdict on the target."""
    ours = times[name][key] if key else times[name]
    theirs = times[base][key] if key else times[base]
    median = statistics.median(ours) / statistics.median(theirs)
    best = min(ours) / min(theirs)
    verdict = "" if target is None else f" (target ≤ {target}: {'met' if median <= target else 'MISSED'})"
    return f"ratio of medians {median:.2f}, of bests {best:.2f}{verdict}"


def backprop_command(*args: str) -> list[str]:
    """The `backprop` command as users run it (the installed script), or `python -m backprop_cli`."""
    return [sys.executable, "-m", "backprop_cli", *args]
