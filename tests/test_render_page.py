"""`render -o graph.html`: one self-contained page stepping through both passes, checked as text and
in a real browser (headless Chromium: skipped without it, unless BACKPROP_REQUIRE_BROWSER=1, as in CI):
what is known at each step (no gradient in the forward pass), the diagram's text readable at 1280 × 800,
the browser's zoom enlarging it, presentation mode, dark mode."""

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
    gradient is dimmed; in the backward pass its gradient is dimmed until its head gate has run (a weight
    on a wire: until the gate that reads it ran). A box's lines about the backward pass (bN: a unit's
    gradient) are dimmed in the forward pass and until every gate reading it ran backward."""
    forward = steps[k]["pass"] == "forward"
    ran = {
        s["box"] for s in steps[: k + 1] if s["box"] and (s["pass"] == "forward") == forward and not s.get("partial")
    }
    back = {s["gate"] for s in steps[: k + 1] if s["pass"] == "backward"}
    gates = {s["box"] for s in steps if s["pass"] == "forward" and s["box"]}
    labels = re.findall(r'<g id="node\d+" class="node wire ([^"]*)"', dom)
    assert labels
    for classes in labels:
        names = classes.split()
        tail = next(c[5:] for c in names if c.startswith("from-"))
        head = next(c[3:] for c in names if c.startswith("to-"))
        by = [c[3:] for c in names if c.startswith("by-")]
        value_known = not forward or tail not in gates or tail in ran
        gradient_known = not forward and (head == "out" or (all(g in back for g in by) if by else head in ran))
        assert ("pending-value" in names) == (not value_known), (k, classes)
        assert ("pending-gradient" in names) == (not gradient_known), (k, classes)
    for box_id, classes, body in re.findall(r'<g id="([nb]\d+)" class="node ([^"]*)">(.*?)</g>', dom, re.S):
        later = [int(c[1:]) for c in classes.split() if re.fullmatch(r"b\d+", c)]
        readers = [c[3:] for c in classes.split() if c.startswith("by-")]
        known = not forward and (
            all(r in back for r in readers) or box_id in {s["box"] for s in steps[: k + 1] if s["pass"] == "backward"}
        )
        texts = re.findall(r"<text([^>]*)>", body)
        for i in later:
            assert ("pending" in texts[i]) == (not known), (k, box_id, classes, i)


def assert_no_gradient_told(dom: str) -> None:
    """A forward step: every line of a box or a wire about the backward pass dimmed."""
    for body in re.findall(r'<g id="[nbl]\d+" class="node[^"]*">(.*?)</g>', dom, re.S):
        for attrs, words in re.findall(r"<text([^>]*)>([^<]*)</text>", body):
            assert "∂" not in words or "pending" in attrs, words


@needs_dot
@pytest.mark.parametrize("step", [5, 999])
def test_chromium_opens_the_step_in_the_url(page, tmp_path, step):
    """A forward step (a gate half done) and one past the end (the last step), each from the URL."""
    steps = page_steps(page)
    done = headless(page, tmp_path / "profile", "--dump-dom", step=step)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    title, lines = shown_step(done.stdout.decode())
    k = min(step, len(steps) - 1)  # past the end: the last step
    assert title == steps[k]["title"] and lines == "\n".join(steps[k]["lines"])
    assert f"step {k} of {len(steps) - 1}" in done.stdout.decode()
    assert_what_is_known(done.stdout.decode(), steps, k)
    if steps[k]["pass"] == "forward":  # no gradient told: lines dimmed, wires plain
        assert re.search(r'<body[^>]*class="[^"]*forward', done.stdout.decode())
        assert_no_gradient_told(done.stdout.decode())


EVERY_STEP = """<script>
const shots = steps.map((_, k) => {
  show(k);
  return {title: document.getElementById("step-title").textContent, counter: document.getElementById("counter").textContent,
    lines: document.getElementById("step-lines").textContent, forward: document.body.classList.contains("forward"),
    svg: svg.outerHTML};
});
const pre = document.createElement("pre");
pre.id = "measure";
pre.textContent = JSON.stringify(shots);
document.body.appendChild(pre);
</script></body>"""


@needs_dot
def test_chromium_shows_what_is_known_at_every_step(page, tmp_path):
    """Every step in turn, as the page's own show(k) draws it (the buttons and keys call it): its title, lines and
    counter, and on the diagram what is known then (assert_what_is_known); no gradient told in the forward pass;
    a backward step's chain rule in numbers, its gate marked."""
    steps = page_steps(page)
    shots = measured(page, tmp_path, EVERY_STEP, 0)
    assert len(shots) == len(steps)
    for k, (shot, expected) in enumerate(zip(shots, steps, strict=True)):
        assert shot["title"] == expected["title"] and shot["lines"] == "\n".join(expected["lines"]), k
        assert shot["counter"] == f"step {k} of {len(steps) - 1}"
        assert_what_is_known(shot["svg"], steps, k)
        assert shot["forward"] == (expected["pass"] == "forward"), k
        if shot["forward"]:
            assert_no_gradient_told(shot["svg"])
    assert shots[25]["title"].startswith("Backward pass") and " = 6 · 1 = 6" in shots[25]["lines"]
    assert re.search(rf'<g id="{steps[25]["box"]}" class="node[^"]*current', shots[25]["svg"])


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
    assert image.getpixel((5, image.height - 5)) == (255, 255, 255)  # a light system: the white page


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


# ------------------------------------------------------------ readable, zoomable, presentable, dark
MEASURE = """<script>
function px(el) { const m = el.getScreenCTM(); return parseFloat(el.getAttribute("font-size")) * Math.hypot(m.a, m.b); }
function smallest(selector) {
  const texts = Array.from(document.querySelectorAll(selector)).filter((t) => t.textContent.trim());
  return Math.min(...texts.map(px));
}
const found = {gate: smallest("svg .node.current text"), all: smallest("svg text"), width: svg.style.width};
// the browser zooms to 200%: twice the device pixels per CSS pixel, half the CSS pixels in the window
Object.defineProperty(window, "devicePixelRatio", {get: () => 2, configurable: true});
view.style.flex = "none"; view.style.width = view.clientWidth / 2 + "px"; view.style.height = view.clientHeight / 2 + "px";
window.dispatchEvent(new Event("resize"));
found.zoomed = smallest("svg .node.current text") * window.devicePixelRatio;  // on the screen: CSS px x 2
for (let i = 0; i < 4; i++) document.dispatchEvent(new KeyboardEvent("keydown", {key: "+", bubbles: true}));
found.plus = smallest("svg .node.current text");  // the page's own zoom, 1.25 a key
document.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight", shiftKey: true, bubbles: true}));
found.panned = view.scrollLeft;
found.step = at;  // shift + arrow pans, it does not step
view.style.width = "400px"; view.style.height = "300px";
window.dispatchEvent(new Event("resize"));  // the window, not the zoom: the diagram fits it again
found.fitted = svg.getBoundingClientRect().width;
document.body.insertAdjacentHTML("beforeend", "<pre id='measure'>" + JSON.stringify(found) + "</pre>");
</script></body>"""


def measured(page: Path, tmp_path: Path, script: str, step: int, *flags: str) -> dict:
    driven = tmp_path / "driven.html"
    driven.write_text(page.read_text().replace("</body>", script))
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    done = headless(driven, profile, "--dump-dom", "--window-size=1280,800", *flags, step=step)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    found = re.search(r"<pre id=\"measure\">(.*?)</pre>", done.stdout.decode(), re.S)
    assert found, done.stdout.decode()[-3000:]
    return json.loads(html.unescape(found.group(1)))


@needs_dot
def test_chromium_shows_the_highlighted_gate_readable_and_zooms_the_diagram(page, tmp_path):
    """At 1280 × 800 the diagram fills the window and the text at the highlighted gate is 12 px or more;
    the browser's zoom enlarges the diagram (it is sized in CSS pixels and not fitted again on a zoom), as
    do + and -; shift + arrows pan; a resized window fits the diagram again."""
    steps = page_steps(page)
    step = next(k for k, s in enumerate(steps) if s["pass"] == "backward" and s["box"] and s["box"] != "out")
    found = measured(page, tmp_path, MEASURE, step)
    assert found["gate"] >= 12, found
    assert found["width"].endswith("px"), found  # CSS pixels, not a share of the window
    assert found["zoomed"] == pytest.approx(2 * found["gate"], rel=0.01), found
    assert found["plus"] == pytest.approx(1.25**4 * found["gate"], rel=0.01) and found["panned"] > 0, found
    assert found["step"] == step and found["fitted"] <= 400, found


@needs_dot
def test_forward_steps_give_no_gradient_away(page):
    """Neither the forward steps' text nor the tooltips (what a gate does to the gradient); in the browser
    (test_chromium_opens_the_step_in_the_url) no line of a box or a wire about the backward pass while the
    forward pass runs, nor the wires' styles."""
    steps = page_steps(page)
    text = page.read_text()
    assert "&#10;" not in re.sub(r"<script>.*", "", text, flags=re.S)  # tooltips: the expression only
    for s in steps:
        if s["pass"] == "forward":
            assert not any("∂" in line or "×" in line for line in s["lines"]), s


@needs_dot
def test_chromium_presents_full_screen_with_large_text(page, tmp_path):
    script = """<script>
const before = [svg.getBoundingClientRect().width, parseFloat(getComputedStyle(document.getElementById("step")).fontSize)];
document.dispatchEvent(new KeyboardEvent("keydown", {key: "p", bubbles: true}));
fit();
const after = [svg.getBoundingClientRect().width, parseFloat(getComputedStyle(document.getElementById("step")).fontSize)];
const shown = getComputedStyle(document.querySelector("h1")).display;
document.body.insertAdjacentHTML("beforeend", "<pre id='measure'>" + JSON.stringify({before, after, shown,
  present: document.body.classList.contains("present")}) + "</pre>");
</script></body>"""
    found = measured(page, tmp_path, script, 25)
    assert found["present"] and found["shown"] == "none", found
    assert found["after"][1] >= 1.5 * found["before"][1] and found["after"][0] >= found["before"][0] * 0.9, found


@needs_dot
def test_chromium_follows_a_dark_system(page, tmp_path):
    """Set to dark, the system gets a dark page and the diagram's dark palette (its white ground dark, its
    values in sky blue); light is the white palette as drawn (test_chromium_draws_the_page)."""
    script = """<script>
const value = Array.from(document.querySelectorAll("svg text")).find((t) => t.getAttribute("fill") === "#0072b2");
const ground = document.querySelector("svg polygon[fill='white']");
document.body.insertAdjacentHTML("beforeend", "<pre id='measure'>" + JSON.stringify({
  page: getComputedStyle(document.body).backgroundColor, value: getComputedStyle(value).fill,
  ground: getComputedStyle(ground).fill}) + "</pre>");
</script></body>"""
    dark = measured(page, tmp_path, script, 30, "--blink-settings=preferredColorScheme=0")
    assert dark == {"page": "rgb(30, 30, 30)", "value": "rgb(86, 180, 233)", "ground": "rgb(30, 30, 30)"}, dark
