"""Shared fixtures: a temporary build folder, a CLI runner, and the optional realdata folder."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "demo"
REALDATA = Path(os.environ.get("BUILDER_REALDATA", ROOT.parent / "shared" / "realdata"))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's config, keys or Hub token."""
    for var in ("BUILDER_CONFIG", "OPENAI_API_KEY", "HF_TOKEN", "BUILDER_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not present")
    return REALDATA


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-500:]!r}, err={self.err[-500:]!r})"


@pytest.fixture
def cli(capsys):
    """Run ``builder ARGS`` in-process through the real entry point; returns code, stdout, stderr."""
    from builder.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def make_build(tmp_path):
    """Write a build.toml in tmp_path with the given TOML body (the [build] table is added)."""

    def make(body: str, name: str = "t", workers: int = 1) -> Path:
        cfg = tmp_path / "build.toml"
        cfg.write_text(f'[build]\nname = "{name}"\noutput = "out"\nworkers = {workers}\n\n' + textwrap.dedent(body), encoding="utf-8")
        return cfg

    return make


ARTICLE = (
    "青川市新开通三条公交线路\n2025年3月14日 记者 张明\n\n"
    "本报讯 3月14日，青川市交通运输局宣布，全市新开通三条公交线路，覆盖城东新区和高铁站。"
    "市交通运输局副局长李明表示，新线路将缩短市民通勤时间约二十分钟。\n\n"
    "据介绍，三条线路全长共计48公里，设置站点62个，首班车6时发车，末班车22时收车。"
    "沿线居民王女士说：“以前去高铁站要换乘两次，现在一趟车就到了。”\n\n"
    "交通部门将根据客流情况动态调整发车间隔，高峰时段间隔不超过八分钟。"
)


@pytest.fixture
def article_text() -> str:
    return ARTICLE


def pytest_collection_modifyitems(config, items):
    """Every test that takes the ``realdata`` fixture carries the ``realdata`` marker (``-m "not realdata"`` skips them all)."""
    for item in items:
        if "realdata" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("realdata"):
            item.add_marker(pytest.mark.realdata)
