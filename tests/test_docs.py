"""The manual against the program (issue 21): every ```console example in README.md and docs/ runs, with its output
and exit code checked (tools/docs_examples.py, conventions in docs/contributing.md); the command reference
(tools/docs_reference.py) matches the commands; every page is in the index and every link leads to a page.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import click
import pytest

from backprop_cli.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _tool(name: str):
    """A module of tools/ (not a package: the tools are scripts, never imported by backprop)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


examples = _tool("docs_examples")
PAGES = examples.pages()


# ------------------------------------------------------------------ the shell examples
@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if any(b.language == "console" for b in examples.blocks(p.read_text()))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_every_console_example_prints_what_its_page_shows(page, tmp_path):
    outcomes = examples.run_page(page.read_text(), tmp_path)
    assert outcomes, "a console block without a command"
    problems = examples.report(str(page.relative_to(ROOT)), outcomes)
    assert not problems, "\n\n".join(problems) + "\n(python tools/docs_examples.py --update PAGE writes the output)"


def test_every_listed_command_line_parses():
    """The ```sh command lists (install lines, long runs) are not run, but each `backprop` line in them is parsed
    against the commands: a renamed option or a choice that no longer exists fails here."""
    problems = [
        f"{page.relative_to(ROOT)}:{number}: `{line}`: {problem}"
        for page in PAGES
        for number, line in examples.command_lines(page.read_text())
        if (problem := examples.parse_problem(line))
    ]
    assert not problems, "\n".join(problems)
    assert examples.parse_problem("backprop render circuit --slide 5:4") == (
        "Invalid value for '--slide': '5:4' is not one of '16:9', '4:3'."
    )
    assert "Did you mean 'trace'" in examples.parse_problem("backprop trac circuit")
    assert examples.parse_problem("backprop trace circuit --no-such").startswith("No such option '--no-such'.")


def test_the_example_checker_can_fail(tmp_path):
    """A changed number, a missing or extra line, an unexplained failure: each is reported; `...` elides."""
    assert examples.matches(["a", "...", "z"], ["a", "b", "c", "z"]) and examples.matches(["..."], [])
    piped = examples.run_step("backprop examples perceptron | backprop trace - --json | head -n 2", 0)
    assert piped == ('{\n  "schema": "backprop.trace",\n', 0)
    assert not examples.matches(["a", "z"], ["a", "b", "z"]) and not examples.matches(["a", "..."], ["b"])
    page = """
```console
$ backprop trace circuit --json | head -n 1
{
$ backprop trace circuit
...
f     mul (switcher)     q * z       -12    1              q: -4; z: 3  q: -4; z: 3
$ backprop trace no_such_graph
...
$ echo $?
2
```
"""
    assert [o.problem for o in examples.run_page(page, tmp_path)] == [None] * 4
    wrong = page.replace("-12", "-13").replace("\n2\n", "\n1\n").replace("$ echo $?\n1\n", "")
    problems = [o.problem for o in examples.run_page(wrong, tmp_path)]
    assert problems == [None, "it prints something else", "it exits 2: follow it with `$ echo $?`"]
    stale = "```console\n$ backprop ops --json | head -n 2\n{\n  old\n$ backprop trace circuit\n...\nold\n```\n"
    fixed = examples.updated(stale, examples.run_page(stale, tmp_path))  # not where `...` elides
    assert fixed == stale.replace("  old", '  "schema": "backprop.ops",')


# ------------------------------------------------------------------ the command reference
def _reference():
    return _tool("docs_reference")


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
