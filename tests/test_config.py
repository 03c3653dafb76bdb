"""Build config: TOML validated against schemas/build.schema.json, defaults filled, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config import load_config, parse_config
from builder.errors import ConfigError


def test_defaults_are_filled_from_the_schema(make_build):
    cfg = load_config(make_build('[[corpus.sources]]\npath = "x"\n'))
    clean = cfg.stage("corpus")["clean"]
    assert clean["min_chars"] == 80 and clean["pii"] is True and clean["t2s"] is False
    assert cfg.stage("corpus")["sources"][0]["format"] == "auto"
    assert cfg.output.name == "out" and cfg.output.parent == cfg.root


def test_misspelt_key_names_the_key_and_the_expected_ones(make_build):
    with pytest.raises(ConfigError) as err:
        load_config(make_build("[corpus.clean]\nmin_char = 10\n"))
    msg = str(err.value)
    assert "unknown key 'corpus.clean.min_char'" in msg
    assert "did you mean 'min_chars'" in msg
    assert "\n" not in msg


def test_mistyped_value_names_the_key_and_the_type(make_build):
    with pytest.raises(ConfigError, match=r"'corpus.clean.min_chars' must be integer, got \"ten\""):
        load_config(make_build('[corpus.clean]\nmin_chars = "ten"\n'))


def test_unknown_top_level_section(make_build):
    with pytest.raises(ConfigError, match=r"unknown key 'dedupe'"):
        load_config(make_build("[dedupe]\nthreshold = 0.5\n"))


def test_invalid_toml_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        parse_config("[build\nname=1", tmp_path / "b.toml")
    assert "\n" not in str(info.value) and str(info.value).startswith(str(tmp_path / "b.toml"))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_init_writes_a_valid_commented_config(tmp_path, cli):
    r = cli("init", tmp_path / "mybuild")
    assert r.code == 0, r
    text = (tmp_path / "mybuild" / "build.toml").read_text(encoding="utf-8")
    assert text.count("#") > 20  # commented
    load_config(tmp_path / "mybuild" / "build.toml")
    again = cli("init", tmp_path / "mybuild")
    assert again.code == 1 and "already exists" in again.err


def test_the_readme_config_example_is_valid(tmp_path):
    import re

    from conftest import ROOT

    block = re.search(r"```toml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S).group(1)
    cfg = parse_config(block, tmp_path / "build.toml")
    assert cfg.stage("corpus")["crawl"]["feeds"] and cfg.stage("llm")["base_url"]


def test_init_writes_the_schema_defaults_of_the_cleaning_settings(tmp_path):
    """A new project starts from the tuned limits (the repeated n-gram limit is 0.5: official phrasing repeats)."""
    import json
    import tomllib

    from builder.init import write_init

    cfg = tomllib.loads(write_init(tmp_path / "p").read_text(encoding="utf-8"))
    root = Path(__file__).resolve().parents[1]
    schema = json.loads((root / "schemas" / "config" / "corpus.schema.json").read_text(encoding="utf-8"))

    def defaults(node):  # every property default under the schema's "clean" object
        if isinstance(node, dict):
            if "clean" in node.get("properties", {}):
                return {k: v.get("default") for k, v in node["properties"]["clean"]["properties"].items()}
            for v in node.values():
                found = defaults(v)
                if found:
                    return found
        return None

    want = defaults(schema)
    assert want and cfg["corpus"]["clean"]
    for key, value in cfg["corpus"]["clean"].items():
        assert value == want[key], key
