"""`render -o graph.html`: one self-contained page stepping through both passes, checked as text and
in a real browser (headless Chromium: skipped without it, unless BACKPROP_REQUIRE_BROWSER=1, as in CI)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import backprop_cli

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if found is None:
        if os.environ.get("BACKPROP_REQUIRE_BROWSER") == "1":
            pytest.fail("BACKPROP_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    return found


def headless(page: Path, profile: Path, *flags: str, step: int | None = None) -> subprocess.CompletedProcess:
    url = page.resolve().as_uri() + (f"#step={step}" if step is not None else "")
    command = [
        browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",  # the page's script runs before the DOM is dumped
        *flags,
        url,
    ]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


def shown_step(dom: str) -> tuple[str, str]:
    title = re.search(r'<p id="step-title">(.*?)</p>', dom, re.S)
    lines = re.search(r'<pre id="step-lines">(.*?)</pre>', dom, re.S)
    assert title and lines, dom[:2000]
    return html.unescape(title.group(1)), html.unescape(lines.group(1))


@pytest.fixture
def page(run, tmp_path) -> Path:
    out = tmp_path / "npfl114_relu.html"
    result = run("render", "npfl114_relu", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def page_steps(page: Path) -> list[dict]:
    data = re.search(r"const steps = (.*?);\n", page.read_text(), re.S).group(1)
    return json.loads(data)


# ------------------------------------------------------------ the page as text
@needs_dot
def test_the_page_is_self_contained_with_both_passes(page, run):
    text = page.read_text()
    assert "<svg" in text and "<script>" in text and "<style>" in text
    assert not re.search(r"(src|href)=\"?(https?:)?//", text)  # nothing fetched from the network
    assert "⏮" not in text and "⏭" not in text and "|&lt;" in text  # ASCII icons every font draws
    steps = page_steps(page)
    graph_gates = len(backprop_cli.load("npfl114_relu").gates)
    forward = [s for s in steps if s["pass"] == "forward"]
    assert len(forward) == 1 + graph_gates  # the leaves, then one step per gate
    explained = run("trace", "npfl114_relu", "--explain").stdout
    for step in steps:
        if step["pass"] == "backward":
            for line in step["lines"]:
                assert line.strip() in explained  # what trace --explain says, step by step
    backward_text = "\n".join(line for s in steps if s["pass"] == "backward" for line in s["lines"])
    fork = next(line for line in backward_text.splitlines() if line.endswith("at the fork x2)"))
    assert " = 18 " in fork  # the lecture's dL/dx2 = 18, summed over its three paths


@needs_dot
def test_the_page_escapes_user_text(run, graph_file, tmp_path):
    path = graph_file('name: "<script>alert(1)</script>"\ninputs: {x: 1}\nnodes: {y: x * 2}\noutput: y\n')
    out = tmp_path / "p.html"
    assert run("render", str(path), "-o", str(out)).exit_code == 0
    text = out.read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)" in text


@needs_dot
def test_a_worksheet_is_not_a_page(run, tmp_path):
    result = run("render", "circuit", "-o", str(tmp_path / "w.html"), "--worksheet")
    assert result.exit_code == 2 and "--worksheet" in result.stderr


# ------------------------------------------------------------ the page in a real browser
def assert_what_is_known(dom: str, steps: list[dict], k: int) -> None:
    """Each wire's label: in the forward pass its value is dimmed until its tail gate has run and every
    gradient is dimmed; in the backward pass its gradient is dimmed until its head gate has run."""
    forward = steps[k]["pass"] == "forward"
    ran = {s["box"] for s in steps[: k + 1] if s["box"] and (s["pass"] == "forward") == forward}
    gates = {s["box"] for s in steps if s["pass"] == "forward" and s["box"]}
    labels = re.findall(r'<g id="node\d+" class="node wire ([^"]*)"', dom)
    assert labels
    for classes in labels:
        names = classes.split()
        tail = next(c[5:] for c in names if c.startswith("from-"))
        head = next(c[3:] for c in names if c.startswith("to-"))
        value_known = not forward or tail not in gates or tail in ran
        gradient_known = not forward and (head == "out" or head in ran)
        assert ("pending-value" in names) == (not value_known), (k, classes)
        assert ("pending-gradient" in names) == (not gradient_known), (k, classes)


@needs_dot
@pytest.mark.parametrize("step", [0, 5, 25, 40, 999])
def test_chromium_opens_the_step_in_the_url(page, tmp_path, step):
    steps = page_steps(page)
    done = headless(page, tmp_path / "profile", "--dump-dom", step=step)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    title, lines = shown_step(done.stdout.decode())
    expected = steps[min(step, len(steps) - 1)]  # past the end: the last step
    assert title == expected["title"] and lines == "\n".join(expected["lines"])
    assert f"step {min(step, len(steps) - 1)} of {len(steps) - 1}" in done.stdout.decode()
    assert_what_is_known(done.stdout.decode(), steps, min(step, len(steps) - 1))
    if step == 25:  # a backward step: the chain rule in numbers, and its gate marked on the diagram
        assert title.startswith("Backward pass") and " = 6 · 1 = 6" in lines
        box = expected["box"]
        assert re.search(rf'<g id="{box}" class="node[^"]*current', done.stdout.decode())


@needs_dot
def test_chromium_draws_the_page(page, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    done = headless(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,900", step=25)
    assert done.returncode == 0 and shot.exists(), done.stderr.decode(errors="replace")[-2000:]
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, wires and boxes in colour: not a blank page
    orange = sum(n for n, (r, g, b) in colours if r > 200 and 130 < g < 180 and b < 60)
    assert orange > 50  # the current step's gate and wires, marked in orange (#E69F00)


@needs_dot
def test_chromium_steps_on_a_click_and_on_the_arrow_keys(page, tmp_path):
    """The page's own handlers, driven by real DOM events: a script appended to a copy of the page
    clicks the gate h2 (in the backward pass: its backward step), then presses the right arrow key."""
    steps = page_steps(page)
    box = next(s["box"] for s in steps if s["pass"] == "backward" and s["title"].endswith(": h2 (killer)"))
    clicked = next(k for k, s in enumerate(steps) if s["box"] == box and s["pass"] == "backward")
    events = (
        "<script>"
        f'document.getElementById("{box}").dispatchEvent(new MouseEvent("click", {{bubbles: true}}));'
        'document.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight", bubbles: true}));'
        "</script></body>"
    )
    driven = tmp_path / "driven.html"
    driven.write_text(page.read_text().replace("</body>", events))
    done = headless(driven, tmp_path / "profile", "--dump-dom", step=len(steps) - 1)  # open in the backward pass
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    title, lines = shown_step(done.stdout.decode())
    assert title == steps[clicked + 1]["title"] and lines == "\n".join(steps[clicked + 1]["lines"])


@needs_dot
def test_the_steps_page_draws_its_buttons_in_ascii(run, tmp_path):
    result = run("render", "circuit", "--steps", str(tmp_path / "frames"))
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "frames" / "index.html").read_text()
    buttons = re.findall(r"<button[^>]*>(.*?)</button>", page)
    assert len(buttons) == 4 and all(html.unescape(b).isascii() for b in buttons), buttons
