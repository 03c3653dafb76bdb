#!/usr/bin/env bash
# The corpus stage of two checkouts on the same inputs, interleaved, wall seconds of the stage (its manifest):
#   bash bench/corpus_side_by_side.sh OLD_CHECKOUT [MB] [ROUNDS]
# e.g. git worktree add /work/wt-pre12 89d420b && bash bench/corpus_side_by_side.sh /work/wt-pre12 200 2
# Inputs: ../shared/realdata (HTML, PDF, GBK records) and a generated corpus of MB megabytes (bench/corpus_bench.py's generator).
set -eu
OLD=$(cd "$1" && pwd); MB=${2:-200}; ROUNDS=${3:-2}
NEW=$(cd "$(dirname "$0")/.." && pwd); PY=${PYTHON:-$NEW/.venv/bin/python}
WORK=${WORK:-/tmp/corpus-side-by-side}; R=$(cd "$NEW/../shared/realdata" && pwd)
mkdir -p "$WORK"
cat > "$WORK/realdata.toml" <<T
[build]
name = "realdata"
[[corpus.sources]]
name = "html"
path = "$R/html"
include = ["*.html"]
[[corpus.sources]]
name = "pdf"
path = "$R/pdf"
include = ["*.pdf"]
[[corpus.sources]]
name = "gbk-records"
path = "$R/encoding"
include = ["*.dat"]
format = "xmlrecords"
T
(cd "$NEW" && "$PY" -c "
import sys; sys.path.insert(0, 'bench')
from corpus_bench import generate, big_config
from pathlib import Path
folder = Path('$WORK/gen${MB}mb'); generate($MB, folder); big_config(folder)")
for round in $(seq 1 "$ROUNDS"); do
  for tree in "$OLD" "$NEW"; do
    for cfg in "$WORK/realdata.toml" "$WORK/gen${MB}mb.toml"; do
      out="$WORK/out-$(basename "$tree")-$(basename "$cfg" .toml)"; rm -rf "$out"
      (cd "$tree" && PYTHONPATH="$tree" "$PY" -m builder.cli run corpus -c "$cfg" -o "$out" --force >/dev/null 2>&1) || true
      "$PY" -c "import json; m = json.load(open('$out/corpus/manifest.json')); print('round $round', '$tree', '$(basename "$cfg" .toml)', 'stage seconds', round(m['seconds'], 1), m['rows'])"
    done
  done
done
