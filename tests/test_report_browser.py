"""The HTML report in a real browser (Debian's chromium, driven by Playwright): no console errors, every
chart drawn, full texts open on click, a review made by clicking, downloaded, applied, and the next
export smaller by exactly the rejected items.

CI installs chromium (``.ci/run``) and the test extra brings Playwright; elsewhere the test skips when
either is missing, and under CI it fails instead, so CI never skips it silently. Set
``BUILDER_SCREENSHOTS=docs`` to rewrite the screenshots committed under ``docs/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "corpora" / "demo" / "build.toml"
STAGES = ("corpus", "dedup", "templates", "selfinstruct", "export")


def _browser_or_skip():
    why = None
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        why = "Playwright is not installed (pip install -e '.[test]')"
    exe = os.environ.get("BUILDER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if why is None and exe is None:
        why = "no chromium on PATH (apt-get install chromium)"
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {why}")
        pytest.skip(why)
    return exe


def run_cli(*args) -> int:
    from builder.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


@pytest.mark.slow
def test_report_in_chromium_review_by_clicking_then_export_obeys(tmp_path):
    exe = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    out = tmp_path / "demo"
    assert run_cli("run", "all", "-c", DEMO_CONFIG, "-o", out) == 0
    before = pl.read_parquet(out / "export" / "data")
    shots = Path(os.environ["BUILDER_SCREENSHOTS"]) if os.environ.get("BUILDER_SCREENSHOTS") else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((out / "report.html").as_uri())
        page.wait_for_load_state("load")

        # every chart is drawn: marks with a size on screen
        charts = page.evaluate("""() => Array.from(document.querySelectorAll('svg.chart')).map(s => {
            const marks = Array.from(s.querySelectorAll('.mark')).map(m => m.getBoundingClientRect());
            return [s.dataset.chart, marks.length, marks.filter(r => r.width > 0 && r.height > 0).length,
                    s.getBoundingClientRect().width];
        })""")
        assert len(charts) >= 12
        for name, marks, drawn, width in charts:
            assert marks > 0 and drawn == marks and width > 0, name
        for stage in STAGES:
            assert page.locator(f"#stage-{stage} svg.chart").count() > 0, stage

        # a reject example opens to its full text on click
        reason = page.locator("#stage-corpus details.reason").first
        reason.locator("summary").first.click()
        example = reason.locator("details.ex").first
        example.locator("summary").click()
        assert example.locator("pre").is_visible() and len(example.locator("pre").inner_text()) > 0

        # review: reject two sampled export items (one with a note), accept one, reject a whole sub-category
        samples = page.locator("#stage-export .sample .decide")
        groups = page.locator("#stage-export button.group[data-kind=subcategory]")
        sub = groups.first.get_attribute("data-id")
        sub_ids = set(before.filter(pl.col("subcategory") == sub)["id"])
        candidates = [i for i in range(samples.count()) if samples.nth(i).get_attribute("data-id") not in sub_ids]
        ids = [samples.nth(i).get_attribute("data-id") for i in candidates[:3]]
        boxes = [samples.nth(i) for i in candidates[:3]]
        boxes[0].locator(".note").fill("事实有误")
        boxes[0].locator("input[value=reject]").check()
        boxes[1].locator("input[value=reject]").check()
        boxes[2].locator("input[value=accept]").check()
        page.once("dialog", lambda d: d.accept("样本太少"))
        groups.first.click()
        assert "4 decisions (3 reject)" in page.locator("#count").inner_text()
        for stage in STAGES:  # the committed screenshots: the top of each stage's section
            y, h = page.evaluate("s => { const r = document.querySelector(s).getBoundingClientRect(); return [r.top + window.scrollY, r.height]; }",
                                 f"#stage-{stage}")
            page.screenshot(path=str(shots / f"report-{stage}.png"), clip={"x": 0, "y": y, "width": 1100, "height": min(760, h)},
                            full_page=True)
        with page.expect_download() as dl:
            page.click("#download")
        review = tmp_path / "review.json"
        dl.value.save_as(review)
        assert not errors, errors
        browser.close()

    assert run_cli("review", "apply", review, "-c", DEMO_CONFIG, "-o", out) == 0
    assert run_cli("run", "export", "-c", DEMO_CONFIG, "-o", out) == 0
    after = pl.read_parquet(out / "export" / "data")
    gone = {ids[0], ids[1]} | sub_ids
    assert after.height == before.height - len(gone)
    assert set(before["id"]) - set(after["id"]) == gone
    rej = pl.read_parquet(out / "export" / "rejected").filter(pl.col("reason") == "rejected_by_review")
    assert set(rej["id"]) == gone
    assert any("事实有误" in d for d in rej["detail"]) and any("样本太少" in d for d in rej["detail"])
    for stage in STAGES:
        assert (shots / f"report-{stage}.png").stat().st_size > 5_000
