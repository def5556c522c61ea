"""report.html opened in a real headless Chromium (Debian's, see tools/peers/chromium-env).

Checks that the page loads with no console error, no exception and no refused load,
that every chart is an SVG with a size and drawn lines, that the tables have a row per
level, and saves a full-page screenshot (kept with `tests/run.py --keep`). A page that
tries to fetch something is shown to produce a reported problem, so the check can fail.
"""
import copy
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from headless_chromium import Browser  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ERA_A = os.path.join(ROOT, "tests", "fixtures", "guidellm", "benchmarks_v0.3.x_stripped.json")

# What the page exposes about itself, read in the browser after layout.
INSPECT = """JSON.stringify({
  title: document.title,
  svgs: [...document.querySelectorAll('figure.chart svg')].map(s => {
    const r = s.getBoundingClientRect();
    return {w: r.width, h: r.height, lines: s.querySelectorAll('polyline').length,
            points: s.querySelectorAll('circle').length,
            label: s.getAttribute('aria-label'),
            textWidth: Math.max(...[...s.querySelectorAll('text')].map(t => t.getBBox().width))};
  }),
  levelRows: document.querySelectorAll('table.levels')[0] ?
             document.querySelectorAll('table.levels')[0].tBodies[0].rows.length : 0,
  metaRows: document.querySelectorAll('table.meta tr').length,
  banner: !!document.getElementById('interrupted'),
  scripts: document.scripts.length,
  width: document.documentElement.scrollWidth
})"""


def chromium_path(ctx):
    r = ctx.run([os.path.join(ROOT, "tools", "peers", "chromium-env"), "--check"])
    assert r.returncode == 0, ("Chromium is not installed: run tools/peers/chromium-env as root "
                               f"(tools/test does):\n{r.stderr}")
    return r.stdout.strip().split("=", 1)[1]


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def inspect(ctx, browser, html_path, shot_name):
    page = browser.open("file://" + html_path)
    info = json.loads(page.evaluate(INSPECT))
    data = page.screenshot(ctx.path(shot_name))
    return page, info, data


def hand_run_results(ctx):
    """benchmarks.json of the unit tests' hand-built run, and one with four levels made
    from it (c=1, 5, 10, 25; latencies and throughput scaled), re-rendered by `report`."""
    folder = ctx.path("unit-outputs")
    os.makedirs(folder)
    unit = ctx.unit
    r = subprocess.run([unit, "outputs_write_hand_run", "outputs_interrupted_run_is_marked"],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, LLMSWEEP_KEEP_OUTPUTS=folder))
    assert "2 passed, 0 failed" in r.stdout, r.stdout
    one = os.path.join(folder, "out", "nested", "benchmarks.json")
    with open(one) as f:
        doc = json.load(f)
    base = doc["benchmarks"][0]
    doc["benchmarks"] = []
    for i, c in enumerate((1, 5, 10, 25)):
        b = copy.deepcopy(base)
        b["config"]["strategy"]["streams"] = c
        for key, sd in b["metrics"].items():
            if not isinstance(sd, dict) or "successful" not in sd or not isinstance(
                    sd["successful"], dict):
                continue
            grow = c ** 0.5 if key.endswith("_ms") or key == "request_latency" else c ** 0.8
            for split in sd.values():
                for k in ("mean", "median", "min", "max"):
                    split[k] *= grow
                split["percentiles"] = {p: v * grow * (1 + j / 20)
                                        for j, (p, v) in enumerate(split["percentiles"].items())}
        b["llmsweep"]["cost"]["per_1k_output_tokens_usd"] /= c ** 0.8
        b["llmsweep"]["cost"]["per_1k_total_tokens_usd"] /= c ** 0.8
        b["llmsweep"]["level_index"] = i
        doc["benchmarks"].append(b)
    four = ctx.path("four-levels.json")
    with open(four, "w") as f:
        json.dump(doc, f)
    return os.path.join(folder, "interrupted", "report.html"), four


def test_report_renders_in_chromium(ctx):
    chromium = chromium_path(ctx)
    interrupted_html, four = hand_run_results(ctx)
    four_html, era_a_html = ctx.path("four.html"), ctx.path("guidellm-0.3.html")
    for src, dst in ((four, four_html), (ERA_A, era_a_html)):
        r = ctx.llmsweep("report", src, "--html", dst, "--quiet")
        assert r.returncode == 0, r.stderr

    with Browser(chromium, ctx.path("profile"), ctx.path("chromium.log")) as browser:
        page, info, shot = inspect(ctx, browser, four_html, "four-levels.png")
        assert page.problems == [], page.problems
        assert info["scripts"] == 0
        assert info["title"] == "llmsweep report: m", info["title"]
        assert info["levelRows"] == 4, info
        assert info["metaRows"] >= 8, info
        labels = [s["label"] for s in info["svgs"]]
        assert labels == ["Throughput", "Requests per second and concurrency",
                          "Time to first token", "Inter-token latency", "Request latency",
                          "Cost per 1K tokens", "Time to first token by percentile",
                          "Inter-token latency by percentile", "Request latency by percentile"], labels
        for s in info["svgs"]:
            assert s["w"] >= 500 and s["h"] >= 250, s
            assert s["lines"] >= 1 and s["points"] >= 4, s
            assert s["textWidth"] > 10, ("chart text did not lay out (no font?)", s)
        assert info["width"] <= 1280 + 1, "the page is wider than the window"
        w, h = png_size(shot)
        assert w == 1280 and h > 1500, (w, h)
        assert len(shot) > 40000, "the screenshot is suspiciously small (blank page?)"

        page, info, shot = inspect(ctx, browser, interrupted_html, "interrupted.png")
        assert page.problems == [], page.problems
        assert info["banner"], "the interrupted run's page does not say so"
        assert info["levelRows"] == 1

        page, info, shot = inspect(ctx, browser, era_a_html, "guidellm-0.3.png")
        assert page.problems == [], page.problems
        assert len(info["svgs"]) == 8, info  # no price in a GuideLLM file: no cost chart

        # The detector works: a page that tries a fetch under the same policy is caught.
        with open(four_html) as f:
            page_text = f.read()
        bad = ctx.path("fetches.html")
        with open(bad, "w") as f:
            f.write(page_text.replace("</body>",
                                      '<img src="http://127.0.0.1:9/x.png" alt=""></body>'))
        page = browser.open("file://" + bad)
        assert any("Content Security Policy" in p or "Refused" in p for p in page.problems), \
            page.problems
    testlib.require_file(ctx.path("four-levels.png"), "the screenshot")
