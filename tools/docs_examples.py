"""Run the shell examples of the manual and compare what they print with what the page shows
(tests/test_docs.py runs every page; docs/contributing.md describes the conventions).

    python tools/docs_examples.py                      # every page; exit 1 naming each example that differs
    python tools/docs_examples.py docs/tutorial.md     # one page
    python tools/docs_examples.py --update docs/tutorial.md   # write what the commands print into the page

A ```console block holds commands (`$ backprop ...`) each followed by what it prints: stdout and stderr, as in a
pipe (plain tables; on a terminal they are drawn with box lines). A line `...` stands for any number of lines;
`$ echo $?` prints the exit code of the command before it, and a command that fails must be followed by one.
`<!-- file: NAME -->` on the line above a fenced block (```yaml) writes the block into NAME before the examples
after it run. A page's blocks run in order in one temporary folder holding a link to graphs/, as a clone does.
Besides backprop, a console block may run `cat FILE` and `echo $?`; backprop may read `< FILE` and write
`> FILE`, and its output may go `| backprop ... -` or `| head -n N`. The commands run in-process (click's CliRunner): a page costs milliseconds per example.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIPED = {"TTY_COMPATIBLE": "0", "COLUMNS": "80", "NO_COLOR": "1"}  # what a pipe sees; rich is not used
FENCE = re.compile(r"^```(\w*)\s*$")
FILE_MARK = re.compile(r"^<!-- file: (\S+) -->\s*$")
ELLIPSIS = "..."


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


# ------------------------------------------------------------------ reading a page
@dataclass
class Step:
    line: int  # of its `$ ` line in the page, from 1
    command: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    language: str
    line: int  # of the opening fence, from 1
    text: str
    file: str | None = None  # <!-- file: NAME --> above it


def blocks(text: str) -> list[Block]:
    found, lines, number = [], text.splitlines(), 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if not opening:
            number += 1
            continue
        end = next((i for i in range(number + 1, len(lines)) if lines[i].rstrip() == "```"), len(lines))
        mark = FILE_MARK.match(lines[number - 1]) if number else None
        body = "".join(line + "\n" for line in lines[number + 1 : end])
        found.append(Block(opening.group(1), number + 1, body, mark.group(1) if mark else None))
        number = end + 1
    return found


def steps(block: Block) -> list[Step]:
    """The commands of a console block, each with the lines shown under it."""
    found: list[Step] = []
    for offset, line in enumerate(block.text.splitlines()):
        if line.startswith("$ "):
            found.append(Step(block.line + 1 + offset, line[2:]))
        elif found and found[-1].command.endswith("\\") and not found[-1].expected:
            found[-1].command = found[-1].command[:-1] + " " + line.strip()  # a command continued with \
        elif found:
            found[-1].expected.append(line)
        else:
            raise ValueError(f"line {block.line + 1 + offset}: a console block starts with a `$ ` command")
    return found


# ------------------------------------------------------------------ running a command
def _runner():
    """click's CliRunner, its stdout and stderr written through at once, so that their lines interleave as a
    terminal shows them (a buffered stdout would come after the stderr lines written later)."""
    import contextlib

    from click.testing import CliRunner

    class Runner(CliRunner):
        @contextlib.contextmanager
        def isolation(self, *args, **kwargs):
            with super().isolation(*args, **kwargs) as streams:
                for stream in (sys.stdout, sys.stderr):
                    stream.reconfigure(write_through=True)
                yield streams

    return Runner(env=PIPED)


def run_step(command: str, last_code: int) -> tuple[str, int]:
    """What a shell would print for one documented command line (in the current folder), and its exit code:
    `backprop ...`, with `< FILE`, `> FILE`, `| backprop ... -` (stdout into the next one's stdin) and a last
    `| head -n N`; or `cat FILE`, or `echo $?`."""
    words = shlex.split(command, comments=True)
    if words == ["echo", "$?"]:
        return f"{last_code}\n", 0
    if words[:1] == ["cat"]:
        return "".join(Path(name).read_text() for name in words[1:]), 0
    stages = [[]]
    for word in words:
        stages[-1].append(word) if word != "|" else stages.append([])
    head = None
    if stages[-1][:2] == ["head", "-n"] and len(stages[-1]) == 3 and len(stages) > 1:
        head = int(stages.pop()[2])
    shown, piped, code = "", None, 0
    for number, stage in enumerate(stages):
        stage, source, target = _redirected(stage)
        if stage[:1] != ["backprop"]:
            raise ValueError(
                f"a console block runs backprop (piped into backprop or head -n N), cat and `echo $?`, not: {command}"
            )
        result = _backprop(stage[1:], Path(source).read_text() if source else piped)
        last = number == len(stages) - 1
        if target:
            Path(target).write_text(result.stdout)
        if not last or target:
            shown += result.stderr
        elif head is not None:
            shown += result.stderr + "".join(result.stdout.splitlines(keepends=True)[:head])
        else:
            shown += result.output  # stdout and stderr as they interleave
        piped, code = result.stdout, result.exit_code
    return shown, code


def _redirected(words: list[str]) -> tuple[list[str], str | None, str | None]:
    """A command's words without `< FILE` and `> FILE`, and the two files."""
    source = target = None
    for sign in ("<", ">"):
        if sign in words:
            at = words.index(sign)
            source, target = (words[at + 1], target) if sign == "<" else (source, words[at + 1])
            words = words[:at] + words[at + 2 :]
    return words, source, target


def _backprop(args: list[str], stdin: str | None):
    from backprop_cli.cli import main

    args = [found for word in args for found in (sorted(glob.glob(word)) if "*" in word else []) or [word]]
    return _runner().invoke(main, args, input=stdin, catch_exceptions=False)


def matches(expected: list[str], shown: list[str]) -> bool:
    """Line by line, trailing spaces aside; a line `...` stands for any number of lines."""
    if not expected:
        return not shown
    if expected[0].strip() == ELLIPSIS:
        return any(matches(expected[1:], shown[i:]) for i in range(len(shown) + 1))
    return bool(shown) and expected[0].rstrip() == shown[0].rstrip() and matches(expected[1:], shown[1:])


def trimmed(lines: list[str]) -> list[str]:
    """Without trailing spaces or trailing blank lines."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


# ------------------------------------------------------------------ a page
@dataclass
class Outcome:
    step: Step
    shown: list[str]
    problem: str | None


def run_page(text: str, folder: Path) -> list[Outcome]:
    """Run every console block of a page, in order, in folder (the current folder meanwhile)."""
    outcomes: list[Outcome] = []
    before = Path.cwd()
    os.chdir(folder)
    try:
        if not Path("graphs").exists():
            Path("graphs").symlink_to(ROOT / "graphs")  # as in a clone: backprop trace graphs/circuit.yaml
        for block in blocks(text):
            if block.file:
                Path(block.file).parent.mkdir(parents=True, exist_ok=True)
                Path(block.file).write_text(block.text)
            if block.language == "console":
                outcomes += _run_block(block)
    finally:
        os.chdir(before)
    return outcomes


def _run_block(block: Block) -> list[Outcome]:
    outcomes: list[Outcome] = []
    code, failed = 0, None
    for step in steps(block):
        is_echo = step.command.strip() == "echo $?"
        if failed is not None and not is_echo:
            outcomes[-1].problem = outcomes[-1].problem or f"it exits {code}: follow it with `$ echo $?`"
        output, code = run_step(step.command, code)
        shown = trimmed(output.splitlines())
        differs = not matches(trimmed(step.expected), shown)
        outcomes.append(Outcome(step, shown, "it prints something else" if differs else None))
        failed = step if code != 0 and not is_echo else None
    if failed is not None:
        outcomes[-1].problem = outcomes[-1].problem or f"it exits {code}: follow it with `$ echo $?`"
    return outcomes


# ------------------------------------------------------------------ command lists
def command_lines(text: str) -> list[tuple[int, str]]:
    """The `backprop ...` lines of a page's ```sh blocks (command lists, not run), with their line numbers."""
    found = []
    for block in blocks(text):
        if block.language in ("sh", "bash", "shell"):
            for offset, line in enumerate(block.text.splitlines()):
                words = line.split("|")[0].strip()
                if words.startswith("backprop "):
                    found.append((block.line + 1 + offset, words))
    return found


def parse_problem(line: str) -> str | None:
    """Why click refuses a command line (no such command, option or choice; a value out of range), else None.
    Nothing runs: only the options are parsed."""
    import click

    from backprop_cli.cli import main

    words = shlex.split(line, comments=True)
    for stop in (">", ";", "&&", "2>"):
        words = words[: words.index(stop)] if stop in words else words
    try:
        with click.Context(main, info_name="backprop", **main.context_settings) as ctx:
            name, command, rest = main.resolve_command(ctx, words[1:])
            command.make_context(name, rest, parent=ctx).close()
    except click.exceptions.Exit:  # --help, --version
        return None
    except click.ClickException as err:
        return err.format_message()
    return None


def report(name: str, outcomes: list[Outcome]) -> list[str]:
    """One paragraph per example that differs: where, the command, what it printed, what the page shows."""
    return [
        f"{name}:{o.step.line}: `{o.step.command}`: {o.problem}. It prints:\n"
        + "\n".join(o.shown)
        + "\nThe page shows:\n"
        + "\n".join(trimmed(o.step.expected))
        for o in outcomes
        if o.problem
    ]


def updated(text: str, outcomes: list[Outcome]) -> str:
    """The page with what each differing command printed in place of what it showed (not where `...` elides)."""
    lines = text.splitlines(keepends=True)
    for outcome in sorted(outcomes, key=lambda o: o.step.line, reverse=True):
        step = outcome.step
        if outcome.problem != "it prints something else" or any(x.strip() == ELLIPSIS for x in step.expected):
            continue
        start = step.line  # the line after the command (0-based index of the first output line)
        while lines[start - 1].rstrip("\n").endswith("\\"):
            start += 1
        lines[start : start + len(step.expected)] = [line + "\n" for line in outcome.shown]
    return "".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    args = sys.argv[1:]
    update = "--update" in args
    chosen = [Path(a).resolve() for a in args if a != "--update"] or pages()
    problems = []
    for path in chosen:
        with tempfile.TemporaryDirectory() as folder:
            outcomes = run_page(path.read_text(), Path(folder))
        if update:
            new = updated(path.read_text(), outcomes)
            if new != path.read_text():
                path.write_text(new)
                print(f"wrote {path.relative_to(ROOT)}")
        problems += report(str(path.relative_to(ROOT)), outcomes)
        problems += [
            f"{path.relative_to(ROOT)}:{number}: `{line}`: {problem}"
            for number, line in command_lines(path.read_text())
            if (problem := parse_problem(line))
        ]
    print("\n\n".join(problems) or "every example prints what its page shows")
    sys.exit(1 if problems and not update else 0)
