"""``builder push``: publish the exported dataset on the Hugging Face Hub.

The folder that is uploaded is assembled first under ``<output>/push/<ORG>__<NAME>/`` (the export's
``hub/`` Parquet files and its card: rendered again for this repo id, or, when a reviewer edited
``export/hub/README.md``, their text with the repo id filled in; the diff is printed) and checked: the card parses as the
Hub parses it, the dataset has a licence and every used source has one, no declared split is empty,
and no unmasked phone number, ID number or email remains. Only then, and not with ``--dry-run``, is
the Hub contacted. The token is read from ``HF_TOKEN`` and handed to huggingface_hub, nothing else.
"""

from __future__ import annotations

import difflib
import glob
import json
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from ..errors import BuilderError

REPO_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
PII_COLUMNS = ("instruction", "input", "output")
SPLITS = ("train", "validation")


def check_repo_id(repo_id: str) -> str:
    """ORG/NAME with the Hub's characters; one line naming what is wrong otherwise."""
    if not REPO_ID.match(repo_id or "") or "--" in repo_id or ".." in repo_id or len(repo_id.split("/")[1]) > 96:
        raise BuilderError(f"--repo-id '{repo_id}': expected ORG/NAME (letters, digits, '-', '_', '.'; "
                           "no '--' or '..'; name up to 96 characters), e.g. my-org/media-sft-zh")
    return repo_id


def export_dir(output: Path) -> Path:
    folder = output / "export"
    if not (folder / "manifest.json").is_file():
        raise BuilderError(f"no finished export in {output} (run 'builder run export' first)")
    if not (folder / "hub" / "README.md").is_file() or not (folder / "card.json").is_file():
        raise BuilderError(f"{folder}: no hub/ folder in the export (add \"hub\" to [export] formats and rerun export)")
    return folder


def stale_inputs(output: Path) -> list[str]:
    """Upstream stages rebuilt since the export was made (their output differs from what export read)."""
    from ..manifest import Manifest

    export = Manifest.read(output / "export")
    if export is None:
        return []
    from ..stages import ORDER

    changed = []
    for stage, fingerprint in export.inputs.items():
        if stage not in ORDER:  # a file input (blocklist, review decisions), not a stage
            continue
        m = Manifest.read(output / stage)
        if (m.output if m else "missing") != fingerprint:
            changed.append(stage)
    return changed


@dataclass
class Upload:
    """The folder that will be uploaded, the card's facts, and how its card came about."""

    folder: Path
    facts: dict
    hand_edited: bool  # export/hub/README.md was edited after the export wrote it: the edits are kept
    diff: list[str]  # the card to upload against export/hub/README.md, as a unified diff


def prepare_upload(output: Path, repo_id: str) -> Upload:
    """Write exactly the folder that will be uploaded: hub/data and the card for ``repo_id``.

    The card is the export's ``hub/README.md``. When nobody edited it, it is rendered again for this repo id
    (the loading snippet names it); when a reviewer edited it, their text is kept and only the placeholder
    repo id is filled in."""
    from ..card import REPO_PLACEHOLDER, check_card, render_card
    from ..shards import atomic_write_text

    source = export_dir(output)
    facts = json.loads((source / "card.json").read_text(encoding="utf-8"))
    exported = (source / "hub" / "README.md").read_text(encoding="utf-8")
    hand_edited = exported != render_card(facts)
    text = exported.replace(REPO_PLACEHOLDER, repo_id) if hand_edited else render_card(facts, repo_id=repo_id)
    check_card(text)
    target = output / "push" / repo_id.replace("/", "__")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source / "hub" / "data", target / "data", copy_function=_link_or_copy)
    atomic_write_text(target / "README.md", text)
    diff = list(difflib.unified_diff(exported.splitlines(), text.splitlines(), "export/hub/README.md", "README.md to upload", lineterm="", n=0))
    return Upload(target, facts, hand_edited, diff)


def _link_or_copy(src: str, dst: str) -> str:
    """A hard link when the file system allows it (the export is never modified in place), else a copy."""
    try:
        os.link(src, dst)
        return dst
    except OSError:
        return shutil.copy2(src, dst)


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def check_upload(folder: Path, licence_problems: list[str]) -> list[tuple[str, str, int, int]]:
    """Refuse a folder the Hub would serve wrongly; returns (config, split, files, rows) for each split."""
    from ..card import check_card

    card = check_card((folder / "README.md").read_text(encoding="utf-8"))
    data = card.data.to_dict()
    if not data.get("license"):
        raise BuilderError(f"{folder / 'README.md'}: missing licence: set [export] license (e.g. cc-by-4.0) and rerun export")
    if licence_problems:
        raise BuilderError(f"missing licence: {licence_problems[0]}")
    configs = data.get("configs") or []
    if not configs:
        raise BuilderError(f"{folder / 'README.md'}: the card declares no configs (the export has no items)")
    summary = []
    for cfg in configs:
        declared = {df["split"]: df["path"] for df in cfg.get("data_files", [])}
        if cfg["config_name"] == "default":
            for split in SPLITS:
                if split not in declared:
                    raise BuilderError(f"empty split: config 'default' has no {split} items "
                                       f"(see 'builder report export'); a dataset needs both train and validation")
        for split, pattern in declared.items():
            files = sorted(Path(p) for p in glob.glob(str(folder / pattern)))
            rows = sum(_rows(f) for f in files)
            if not rows:
                raise BuilderError(f"empty split: config '{cfg['config_name']}' split '{split}' has no rows ({pattern})")
            summary.append((cfg["config_name"], split, len(files), rows))
    return summary


def scan_pii(folder: Path) -> tuple[Counter, list[tuple[str, str]]]:
    """PII left in the upload: counts by kind, and (file, item id) of the items that hold it."""
    import pyarrow.parquet as pq

    from ..text import pii

    kinds: Counter = Counter()
    where: list[tuple[str, str]] = []
    for path in sorted((folder / "data").rglob("*.parquet")):
        table = pq.read_table(path, columns=["id", *PII_COLUMNS]).to_pylist()
        for row in table:
            hit = False
            for col in PII_COLUMNS:
                for kind, found in pii.scan(row.get(col) or "").items():
                    kinds[kind] += len(found)
                    hit = True
            if hit:
                where.append((str(path.relative_to(folder)), row["id"]))
    for kind, found in pii.scan((folder / "README.md").read_text(encoding="utf-8")).items():
        kinds[kind] += len(found)
        where.append(("README.md", "-"))
    return kinds, where


def hub_endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def check_reachable(endpoint: str, timeout: float = 5.0) -> None:
    """Any HTTP answer will do; a connection error or a timeout is 'no network'."""
    import httpx

    try:
        httpx.get(endpoint, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise BuilderError(f"cannot reach the Hub at {endpoint} ({why}): check the network, or set HF_ENDPOINT to a mirror") from None


def upload(folder: Path, repo_id: str, private: bool, token: str, endpoint: str, message: str) -> str:
    """Create the dataset repo if needed and upload the folder in one commit; returns the dataset URL."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError

    if constants.HF_HUB_OFFLINE:
        raise BuilderError("HF_HUB_OFFLINE is set: unset it to push")
    api = HfApi(endpoint=endpoint, token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder), commit_message=message,
                          delete_patterns=["data/**"])
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", "?")
        hint = " (is HF_TOKEN a write token for this organisation?)" if status in (401, 403) else ""
        first = str(exc).splitlines()[0][:200].replace(token, "***")
        raise BuilderError(f"the Hub refused the push of {repo_id}: HTTP {status}: {first}{hint}") from None
    return f"{endpoint}/datasets/{repo_id}"


def register(app: typer.Typer) -> None:
    from ..options import ConfigOpt, OutputOpt, console

    @app.command()
    def push(repo_id: str = typer.Option(..., "--repo-id", help="Dataset repository on the Hub, ORG/NAME."),
             private: bool = typer.Option(False, "--private", help="Create the repository as private."),
             dry_run: bool = typer.Option(False, "--dry-run", help="Write the folder that would be uploaded, print its path, upload nothing."),
             allow_pii: bool = typer.Option(False, "--allow-pii", help="Push even if phone numbers, ID numbers or emails remain."),
             config: Optional[Path] = ConfigOpt, output: Optional[Path] = OutputOpt) -> None:
        """Publish the export on the Hugging Face Hub (token from HF_TOKEN).

        Checks the licence, the splits and PII before anything is uploaded.

        Example:

            builder push --repo-id my-org/media-sft-zh --dry-run -c build.toml
            HF_TOKEN=hf_... builder push --repo-id my-org/media-sft-zh --private -c build.toml
        """
        from ..config import load_config

        check_repo_id(repo_id)
        build = load_config(config, output)
        say = lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True)  # noqa: E731 - paths may hold [brackets]
        stale = stale_inputs(build.output)
        if stale:
            say(f"warning: {', '.join(stale)} changed after the export was built; "
                          f"run 'builder run export -c {build.path}' to publish the current data")
        up = prepare_upload(build.output, repo_id)
        folder, facts = up.folder, up.facts
        if up.hand_edited:
            say("the card in export/hub/README.md was edited by hand: your text is uploaded as it is (rerun export to discard it)")
        say(f"card changes against export/hub/README.md: {len([d for d in up.diff if d[:1] in '+-' and d[:3] not in ('+++', '---')])} lines")
        for line in up.diff[2:][:40]:
            say(f"  {line}")
        summary = check_upload(folder, facts.get("license_problems", []))
        kinds, where = scan_pii(folder)
        if kinds and not allow_pii:
            items = len({i for _, i in where})
            first_file, first_id = where[0]
            found = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            raise BuilderError(f"unmasked PII in {items} items ({found}; e.g. item {first_id} in {first_file}): "
                               "mask it upstream ([corpus.clean] pii = true) or pass --allow-pii")
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in files)
        rows = {s: n for c, s, _, n in summary if c == "default"}
        say(f"{repo_id}: {len(files)} files, {size / 1024:.1f} KB, "
                      f"{rows.get('train', 0)} train / {rows.get('validation', 0)} validation items, "
                      f"configs: {', '.join(dict.fromkeys(c for c, *_ in summary))}")
        if kinds:
            say(f"warning: pushing with unmasked PII ({sum(kinds.values())} matches) because of --allow-pii")
        if dry_run:
            say(f"dry run: nothing uploaded; the upload folder is {folder}")
            return
        token = os.environ.get("HF_TOKEN", "").strip()
        if not token:
            raise BuilderError("HF_TOKEN is not set: create a write token at https://huggingface.co/settings/tokens "
                               "and export HF_TOKEN=...")
        endpoint = hub_endpoint()
        check_reachable(endpoint)
        name = build.settings["build"]["name"]
        url = upload(folder, repo_id, private, token, endpoint,
                     f"builder: {name}, {rows.get('train', 0)} train / {rows.get('validation', 0)} validation items")
        say(f"pushed {folder} to {url}")
