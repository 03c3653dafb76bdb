"""Can the tests fail? Break one line in each of dedup, clean, split and repair, run the tests that cover
that part, and say whether they caught it.

Each mutation is applied to a temporary copy of the tracked files (the working tree is never touched), the
named test files run there with pytest, and the result is one line per mutation: ``caught`` with the tests
that failed, or ``MISSED`` (the suite passed with the code broken: a test is missing). A line that is no
longer in its file (the code moved on) is reported as ``stale`` so the list can be updated.

    python bench/mutations.py              # all mutations
    python bench/mutations.py clean split  # some of them, by name
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # file in the repository
    line: str  # the exact line (stripped) that is replaced; it must occur once
    mutant: str  # what it becomes (same indentation)
    why: str  # the bug it stands for
    tests: tuple[str, ...]  # test files that should catch it


MUTATIONS = (
    Mutation("dedup", "builder/text/minhash/verify.py",
             "return inter / (len(a) + len(b) - inter), inter / len(a)",
             "return inter / (len(a) + len(b)), inter / len(a)",
             "Jaccard divides by the sum of the set sizes, not their union: near duplicates score about half",
             ("tests/test_dedup.py",)),
    Mutation("clean", "builder/stages/corpus/clean.py",
             "pages[i], found = pii.mask(page)",
             "_, found = pii.mask(page)",
             "PII is counted as masked but left in the text",
             ("tests/test_clean.py", "tests/test_pii.py", "tests/test_markup.py")),
    Mutation("split", "builder/items.py",
             'return xxhash.xxh3_64_intdigest(f"{seed}:split:{source_id}".encode("utf-8")) / 2**64',
             'return xxhash.xxh3_64_intdigest(f"split:{source_id}".encode("utf-8")) / 2**64',
             "the train/validation split ignores the build seed",
             ("tests/test_items.py", "tests/test_splits.py", "tests/test_export.py", "tests/test_selfinstruct.py")),
    Mutation("repair", "builder/llm/repair.py",
             "if items and not CLOSED_TAIL.search(candidate):",
             "if items and CLOSED_TAIL.search(candidate):",
             "a reply cut off by max_tokens keeps its broken last item (and a complete one loses its last item)",
             ("tests/test_llm_client.py", "tests/test_selfinstruct.py")),
)


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [p for p in out.stdout.splitlines() if (ROOT / p).is_file()]


def copy_tree(dest: Path) -> None:
    for rel in tracked_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)


def apply(tree: Path, m: Mutation) -> bool:
    path = tree / m.path
    if not path.is_file():
        return False
    lines = path.read_text(encoding="utf-8").split("\n")
    hits = [i for i, line in enumerate(lines) if line.strip() == m.line]
    if len(hits) != 1:
        return False
    i = hits[0]
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines[i] = indent + m.mutant
    path.write_text("\n".join(lines), encoding="utf-8")
    return True


def line_number(m: Mutation) -> int | None:
    path = ROOT / m.path
    if not path.is_file():
        return None
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.strip() == m.line:
            return n
    return None


def run(m: Mutation, timeout: int) -> tuple[str, list[str], float]:
    """('caught' | 'MISSED' | 'stale' | 'error', failing test ids, seconds)."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{m.name}-") as tmp:
        tree = Path(tmp) / "repo"
        copy_tree(tree)
        if not apply(tree, m):
            return "stale", [], 0.0
        tests = [t for t in m.tests if (tree / t).is_file()]
        env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1",
                   BUILDER_REALDATA=os.environ.get("BUILDER_REALDATA", str(ROOT.parent / "shared" / "realdata")))
        t0 = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--maxfail=20",
                                   "-m", "not slow", *tests], cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "error", [f"timed out after {timeout} s"], time.monotonic() - t0
        seconds = time.monotonic() - t0
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)
        if proc.returncode == 0:
            return "MISSED", [], seconds
        if proc.returncode == 1 and failed:
            return "caught", failed, seconds
        return "error", [proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else f"pytest exited {proc.returncode}"], seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="mutations to run (default: all): " + ", ".join(m.name for m in MUTATIONS))
    ap.add_argument("--timeout", type=int, default=900, help="seconds per mutation")
    args = ap.parse_args()
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    verdicts = []
    for m in chosen:
        where = f"{m.path}:{line_number(m) or '?'}"
        verdict, failed, seconds = run(m, args.timeout)
        verdicts.append(verdict)
        print(f"{m.name:7} {verdict:7} {where}  {m.line!r} -> {m.mutant!r}  ({seconds:.0f} s)")
        print(f"        bug: {m.why}")
        for test in failed:
            print(f"        failed: {test}")
    print(f"{verdicts.count('caught')} of {len(chosen)} mutations caught"
          + "".join(f", {verdicts.count(v)} {v}" for v in ("MISSED", "stale", "error") if v in verdicts))
    return 0 if verdicts.count("caught") == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
