"""``builder init``: a commented build.toml to start from."""

from __future__ import annotations

from pathlib import Path

from .config import parse_config
from .errors import BuilderError

TEMPLATE = '''# builder build config. Every key is optional unless marked; defaults are shown and documented in
# schemas/build.schema.json and schemas/config/*.schema.json. Paths are relative to this file.

[build]
name = "{name}"
output = "out"        # each stage writes out/<stage>/ with data/, rejected/, report/, manifest.json
workers = 0           # processes for per-document work; 0 = all cores
shard_rows = 5000     # rows per Parquet shard: bounds memory per stage
seed = 42

# One [[corpus.sources]] block per folder, file or glob of local files.
# Formats by extension: .txt .md .html/.htm .pdf .jsonl .json .csv .parquet
[[corpus.sources]]
name = "my-articles"
path = "corpus"                   # put your files here, or point at another folder
include = ["**/*"]
exclude = []
license = "CC-BY-4.0"             # shown in the dataset card
# encoding = "auto"               # or "gb18030", "utf-16", ...
# For JSONL/JSON/CSV/Parquet: which field holds what (common names are found without this)
# fields = {{ text = "content", title = "title", published = "pub_time", author = "author", url = "url" }}

[corpus.clean]
min_chars = 80                # drop documents shorter than this after cleaning
min_cjk_ratio = 0.3           # share of Han characters among non-space characters
max_dup_line_ratio = 0.3      # share of characters in repeated lines
max_dup_ngram_ratio = 0.5     # share of characters in repeated 10-grams (official phrasing repeats)
max_garbled_ratio = 0.02      # (cid:N), private-use, replacement characters
boilerplate = true            # 责任编辑/来源/原标题/扫码关注/... lines and promotional tails
t2s = false                   # traditional -> simplified
pii = true                    # mask mobile numbers, ID numbers, emails

# An OpenAI-compatible endpoint for selfinstruct (and model-made template inputs).
# Without it, selfinstruct only estimates requests and cost, and the build goes on.
# [llm]
# base_url = "https://api.example.com/v1"
# model = "your-model"
# api_key_env = "OPENAI_API_KEY"   # the key itself stays in the environment
'''


def write_init(folder: Path, force: bool = False) -> Path:
    folder = Path(folder)
    path = folder / "build.toml"
    if path.exists() and not force:
        raise BuilderError(f"{path} already exists (use --force to overwrite)")
    text = TEMPLATE.format(name=folder.resolve().name or "build")
    parse_config(text, path)  # the template must always be a valid config
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus").mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
