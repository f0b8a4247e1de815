"""The manual against the program (issue 21): every ```console example in README.md and docs/ runs, with its output
and exit code checked; the command reference (tools/docs_reference.py) matches the commands; every page is listed.

The conventions (docs/contributing.md): in a ```console block a line `$ backprop ...` is a command and the lines
under it are what it prints (stdout and stderr, as piped: plain tables), a line `...` stands for any number of
lines, `$ echo $?` shows the exit code of the command before it (a command that fails must be followed by one).
`<!-- file: NAME -->` just above a fenced block writes the block into NAME first. A page's blocks run in order in
one temporary folder, so a later example can use what an earlier one wrote.
"""

from __future__ import annotations

import glob
import importlib.util
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from backprop_cli.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
PIPED = {"TTY_COMPATIBLE": "0", "COLUMNS": "80", "NO_COLOR": "1"}
FENCE = re.compile(r"^```(\w*)\s*$")
FILE_MARK = re.compile(r"^<!-- file: (\S+) -->\s*$")


# ------------------------------------------------------------------ reading the pages
@dataclass
class Step:
    line: int  # of the `$ ` line in its page
    command: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    language: str
    line: int  # of the opening fence
    text: str
    file: str | None  # <!-- file: NAME --> above it


def blocks(path: Path) -> list[Block]:
    found, lines, number = [], path.read_text().splitlines(), 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if not opening:
            number += 1
            continue
        end = next(i for i in range(number + 1, len(lines)) if lines[i].rstrip() == "```")
        mark = FILE_MARK.match(lines[number - 1]) if number else None
        body = "\n".join(lines[number + 1 : end]) + "\n"
        found.append(Block(opening.group(1), number + 1, body, mark.group(1) if mark else None))
        number = end + 1
    return found


def steps(block: Block) -> list[Step]:
    """The commands of a console block, each with the lines shown under it."""
    found: list[Step] = []
    lines = block.text.splitlines()
    for offset, line in enumerate(lines):
        if line.startswith("$ "):
            found.append(Step(block.line + 1 + offset, line[2:]))
        elif found and found[-1].command.endswith("\\") and not found[-1].expected:
            found[-1].command = found[-1].command[:-1] + " " + line.strip()  # a continued command line
        elif found:
            found[-1].expected.append(line)
        else:
            raise AssertionError(f"line {block.line + 1 + offset}: a console block starts with a `$ ` command")
    return found


def console_pages() -> list[Path]:
    return [p for p in PAGES if any(b.language == "console" for b in blocks(p))]


# ------------------------------------------------------------------ running a step
def run_step(command: str, last_code: int) -> tuple[str, int]:
    """What a shell would print for one documented command line, and its exit code."""
    words = shlex.split(command, comments=True)
    target = None
    if ">" in words:  # backprop ... > FILE
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    head = None
    if "|" in words:  # ... | head -n N
        at = words.index("|")
        tail = words[at + 1 :]
        assert tail[:2] == ["head", "-n"] and len(tail) == 3, f"only `| head -n N` is run: {command}"
        words, head = words[:at], int(tail[2])
    if words == ["echo", "$?"]:
        return f"{last_code}\n", 0
    if words[0] == "cat":
        return "".join(Path(name).read_text() for name in words[1:]), 0
    assert words[0] == "backprop", f"the docs test runs backprop, cat and `echo $?`, not: {command}"
    args = [match for word in words[1:] for match in (sorted(glob.glob(word)) or [word] if "*" in word else [word])]
    result = CliRunner(env=PIPED).invoke(main, args, catch_exceptions=False)
    output = result.stdout if target else result.output
    if target:
        Path(target).write_text(output)
        output = result.stderr
    if head is not None:
        output = "".join(output.splitlines(keepends=True)[:head])
    return output, result.exit_code


def matches(expected: list[str], shown: list[str]) -> bool:
    """Line by line, trailing spaces aside; a line `...` stands for any number of lines."""
    if not expected:
        return not shown
    if expected[0].strip() == "...":
        return any(matches(expected[1:], shown[i:]) for i in range(len(shown) + 1))
    return bool(shown) and expected[0].rstrip() == shown[0].rstrip() and matches(expected[1:], shown[1:])


def _trimmed(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


@pytest.mark.parametrize("page", console_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_console_example_runs_as_shown(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "graphs").symlink_to(ROOT / "graphs")  # as in a clone: backprop trace graphs/circuit.yaml
    name = page.relative_to(ROOT)
    for block in blocks(page):
        if block.file:
            Path(block.file).parent.mkdir(parents=True, exist_ok=True)
            Path(block.file).write_text(block.text)
        if block.language != "console":
            continue
        code, pending = 0, None
        for step in steps(block):
            if step.command.strip() != "echo $?" and pending is not None:
                pytest.fail(f"{name}:{pending.line}: `{pending.command}` exits {code}: show it with `$ echo $?`")
            output, code = run_step(step.command, code)
            pending = step if code != 0 and step.command.strip() != "echo $?" else None
            shown, expected = _trimmed(output.splitlines()), _trimmed(step.expected)
            assert matches(expected, shown), (
                f"{name}:{step.line}: `{step.command}` prints\n"
                + "\n".join(shown)
                + "\n(the page shows)\n"
                + "\n".join(expected)
            )
        if pending is not None:
            pytest.fail(f"{name}:{pending.line}: `{pending.command}` exits {code}: show it with `$ echo $?`")


def test_the_example_runner_fails_on_a_wrong_page():
    """The checker can fail: a changed number, a missing line, a wrong exit code, an unexplained failure."""
    assert matches(["a", "...", "z"], ["a", "b", "c", "z  "]) and matches(["..."], [])
    assert not matches(["a", "z"], ["a", "b", "z"]) and not matches(["a", "..."], ["b"])
    output, code = run_step("backprop trace circuit --json | head -n 1", 0)
    assert code == 0 and output.startswith("{")
    assert run_step("backprop trace no_such_graph", 0)[1] == 2 and run_step("echo $?", 2) == ("2\n", 0)
    page = Block("console", 1, "$ backprop ops --json | head -n 1\n{\n$ backprop trace circuit\n...\nf  1\n", None)
    assert [s.command for s in steps(page)] == ["backprop ops --json | head -n 1", "backprop trace circuit"]


# ------------------------------------------------------------------ the command reference
def _reference():
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "tools" / "docs_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_command_reference_matches_the_commands():
    problems = _reference().check()
    assert not problems, "\n".join(problems)


def test_the_reference_check_names_what_changed(tmp_path, monkeypatch):
    reference = _reference()
    pages = tmp_path / "docs" / "commands"
    pages.mkdir(parents=True)
    monkeypatch.setattr(reference, "ROOT", tmp_path)
    monkeypatch.setattr(reference, "PAGES", pages)

    def demo(steps: int = 100) -> click.Command:
        @click.command()
        @click.option("--steps", type=click.IntRange(1), default=steps, show_default=True, help="Steps.")
        @click.option("--lr", type=float, help="Rate.")
        def command(**_):
            """Train."""

        return command

    monkeypatch.setattr(reference, "commands", lambda: {"demo": demo()})
    assert reference.check() == [
        "backprop demo: docs/commands/demo.md is missing. Regenerate docs/commands/demo.md with "
        "`python tools/docs_reference.py`"
    ]
    (pages / "demo.md").write_text("# demo\n\nHand-written.\n")
    assert reference.write() == [pages / "demo.md"] and reference.check() == []
    assert "Hand-written." in (pages / "demo.md").read_text()
    monkeypatch.setattr(reference, "commands", lambda: {"demo": demo(200)})
    assert "`--steps`: default is `200` (the page says `100`)" in reference.check()[0]
    page = (pages / "demo.md").read_text()
    (pages / "demo.md").write_text(page.replace("| `--lr` |", "| `--rate` |"))
    problems = reference.check()[0]
    assert "not documented: `--lr`" in problems and "no longer an option: `--rate`" in problems


def test_every_command_has_a_page_and_every_page_is_in_the_index():
    ctx = click.Context(main, info_name="backprop")
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")} - {"index.md"}
    assert {f"commands/{name}.md" for name in main.list_commands(ctx)} <= pages
    index = (DOCS / "index.md").read_text()
    listed = set(re.findall(r"\]\(([^)#]+\.md)", index))
    assert pages - listed == set(), f"docs/index.md does not link {sorted(pages - listed)}"
    readme = (ROOT / "README.md").read_text()
    assert "docs/tutorial.md" in readme and len(readme.splitlines()) <= 150


UNWRITTEN = {"autograders.md"}  # the autograder's guide, written for issue 23


def test_links_between_pages_point_to_pages_that_exist():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)", page.read_text()):
            if "://" not in target and target not in UNWRITTEN:
                assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links {target}, which is missing"
