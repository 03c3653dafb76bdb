"""Item filters, each with its own reason: empty, too short, too long, refusal, few-shot leak, ungrounded
(``ItemFilters``, item by item), then duplicates (``NearDuplicates``, block by block over the surviving items).
Similarities are on character n-grams of the comparison form, which suits Chinese (no spaces, full-width
punctuation); the usual ROUGE tokenizer would throw the Chinese characters away.

Duplicates are found exactly, by a sparse-matrix similarity join over the comparison forms (no MinHash:
instructions are short, so sampling would only add noise, and the join verifies every candidate). The
threshold was chosen on labelled pairs: ``bench/quality/selfinstruct_filters.py`` scores it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ...items import cjk_len
from ...text.normalize import compare_form
from ...text.shingles import char_ngrams, jaccard


@dataclass
class Verdict:
    reason: str
    detail: str


LEAK_NGRAM = 2  # bigrams: a reworded example keeps most of its two-character words (短视频, 开头, 钩子)


def containment(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the other one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


class ItemFilters:
    """Decides, item by item, whether an item is good enough to keep (duplicates are ``NearDuplicates``' job)."""

    def __init__(self, settings: Mapping[str, Any], examples: Sequence[Mapping[str, str]]):
        f = settings["filters"]
        self.s = settings
        self.n = f["ngram"]
        self.leak_threshold = f["fewshot_leak"]
        self.grounding_n = f["grounding_ngram"]
        self.min_grounding = f["min_grounding"]
        self.refusals = [re.compile(p) for p in settings["refusal_patterns"]]
        self.examples = [(char_ngrams(e["instruction"], LEAK_NGRAM), char_ngrams(e["output"], LEAK_NGRAM)) for e in examples]
        self._example_ins = set().union(*(a for a, _ in self.examples)) if self.examples else set()
        self._example_out = set().union(*(b for _, b in self.examples)) if self.examples else set()
        self._shortest_out = min((len(b) for _, b in self.examples if b), default=0)

    def is_refusal(self, text: str) -> bool:
        head = text.strip()[:200]
        return any(p.search(head) for p in self.refusals)

    def leak(self, instruction: str, output: str, normalized: bool = False, at_least: float = 0.0) -> tuple[int, float]:
        """The few-shot example an item is most like and how much (0..1): the larger of the instructions'
        bigram Jaccard and the bigram containment of the answers (a reworded or shortened copy of an
        example's answer shares most of its bigrams with it). With ``at_least``, an item that cannot reach
        it against any example (too few of its bigrams occur in the examples at all) returns (-1, 0.0)
        without being compared to each."""
        ins, out = char_ngrams(instruction, LEAK_NGRAM, normalized), char_ngrams(output, LEAK_NGRAM, normalized)
        if not self.examples:
            return -1, 0.0
        if at_least > 0:
            ins_bound = len(ins & self._example_ins) / len(ins) if ins else 0.0
            out_bound = len(out & self._example_out) / min(len(out), self._shortest_out) if out and self._shortest_out else 0.0
            if max(ins_bound, out_bound) < at_least:
                return -1, 0.0
        best, best_sim = -1, 0.0
        for k, (ex_ins, ex_out) in enumerate(self.examples):
            sim = max(jaccard(ins, ex_ins) if ins else 0.0, containment(out, ex_out))
            if sim > best_sim:
                best, best_sim = k, sim
        return best, best_sim

    def check(self, item: Mapping[str, Any], grounding: float, forms: tuple[str, str, str] | None = None) -> Verdict | None:
        """None to keep the item, else why not. ``forms``: compare forms of instruction, input, output."""
        s = self.s
        instruction, output = item["instruction"].strip(), item["output"].strip()
        if not instruction or not output:
            return Verdict("dropped_empty", "empty instruction" if not instruction else "empty output")
        ins_form = forms[0] if forms else compare_form(instruction)
        output_form = forms[2] if forms else None
        if len(ins_form) < s["instruction_min_chars"]:
            return Verdict("dropped_too_short", f"instruction of {len(ins_form)} characters (< {s['instruction_min_chars']})")
        length = cjk_len(output)  # whitespace not counted, as in the templates' limits
        if length < s["answer_min_chars"]:
            return Verdict("dropped_too_short", f"answer of {length} characters (< {s['answer_min_chars']})")
        if length > s["answer_max_chars"]:
            return Verdict("dropped_too_long", f"answer of {length} characters (> {s['answer_max_chars']})")
        if self.is_refusal(output):
            return Verdict("dropped_refusal", f"the answer refuses: {output[:40]}")
        if self.examples:
            k, sim = self.leak(ins_form, output_form if output_form is not None else compare_form(output), normalized=True,
                               at_least=self.leak_threshold)
            if sim >= self.leak_threshold:
                return Verdict("dropped_fewshot_leak", f"copies few-shot example {k + 1} (similarity {sim:.2f})")
        if self.min_grounding and grounding < self.min_grounding:
            return Verdict("dropped_ungrounded", f"grounding {grounding:.2f} < {self.min_grounding}")
        return None


@dataclass(frozen=True)
class Repeat:
    """An item that repeats an earlier kept item: its row, exact or near, and how alike the two are."""

    row: int
    kind: str  # exact | near
    instruction_similarity: float
    input_similarity: float

    def detail(self, kept_id: str) -> str:
        if self.kind == "exact":
            return f"repeats item {kept_id} (same instruction and input once punctuation and spaces are ignored)"
        return (f"repeats item {kept_id} (instruction similarity {self.instruction_similarity:.2f}, "
                f"input similarity {self.input_similarity:.2f})")


SHORT_CHARS = 30  # instruction + input shorter than this (compare form): the answer's head joins the comparison
OUTPUT_HEAD = 60  # characters of the answer used then


class GramJoin:
    """Pairs of n-gram sets with a Jaccard of at least ``threshold``, exactly (no sampling), found block by
    block as the sets arrive: each new block is joined with itself and with every set before it.

    The sets are the rows of a sparse 0/1 matrix (one column per distinct n-gram); a block of rows times the
    transposed rows so far gives every pair's shared count in scipy's C code, and the Jaccard follows from the
    set sizes. Memory is bounded by the block (pairs that share nothing cost nothing); the matrix of the sets
    so far is kept (a few integers per n-gram)."""

    BLOCK = 1024

    def __init__(self, threshold: float):
        import numpy as np
        from scipy import sparse

        self._np, self._sparse = np, sparse
        self.threshold = threshold
        self.count = 0  # sets joined so far; a pair names sets by their index in arrival order
        self._vocab: dict[str, int] = {}
        self._matrix = sparse.csr_matrix((0, 0), dtype=np.float32)
        self._sizes = np.zeros(0, dtype=np.float64)

    def join(self, sets: Sequence[set[str]]) -> list[tuple[int, int, float]]:
        """Every pair (a < b) with b among ``sets`` (numbered after the earlier ones) and a before it or among them."""
        pairs: list[tuple[int, int, float]] = []
        for start in range(0, len(sets), self.BLOCK):
            pairs += self._join_block(sets[start:start + self.BLOCK])
        return pairs

    def _join_block(self, sets: Sequence[set[str]]) -> list[tuple[int, int, float]]:
        np, sparse = self._np, self._sparse
        vocab = self._vocab
        indptr, indices = [0], []
        for grams in sets:
            indices.extend(vocab.setdefault(g, len(vocab)) for g in grams)
            indptr.append(len(indices))
        width = len(vocab)
        block = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
                                  shape=(len(sets), width))
        before = self._matrix
        before = sparse.csr_matrix((before.data, before.indices, before.indptr), shape=(before.shape[0], width))  # new n-grams: empty columns
        matrix = sparse.vstack([before, block], format="csr")
        sizes = np.concatenate([self._sizes, np.diff(block.indptr).astype(np.float64)])
        offset = self.count
        self._matrix, self._sizes, self.count = matrix, sizes, offset + len(sets)
        if not indices:
            return []
        shared = (block @ matrix.T).tocoo()  # rows: b in the block; columns: a, any set so far
        b = shared.row + offset
        a = shared.col
        keep = a < b
        a, b, inter = a[keep], b[keep], shared.data[keep].astype(np.float64)
        j = inter / (sizes[a] + sizes[b] - inter)
        ok = j >= self.threshold - 1e-9
        return list(zip(a[ok].tolist(), b[ok].tolist(), j[ok].tolist()))


def similarity_join(sets: Sequence[set[str]], threshold: float) -> list[tuple[int, int, float]]:
    """Every pair (a < b) of sets with a Jaccard of at least ``threshold``, exactly (see :class:`GramJoin`)."""
    return GramJoin(threshold).join(sets)


def dup_forms(item: Mapping[str, str], forms: tuple[str, str, str] | None = None) -> tuple[str, str]:
    """What two items are compared on: the instruction (with the answer's head when instruction and input are
    both short, since then the answer is what tells two items apart) and the input, in compare form.
    ``forms``: the compare forms of instruction, input and output when they are at hand."""
    ins, inp, out = forms or (compare_form(item["instruction"]), compare_form(item.get("input") or ""), None)
    if len(ins) + len(inp) < SHORT_CHARS:
        ins = ins + "\x1f" + (out if out is not None else compare_form(item["output"]))[:OUTPUT_HEAD]
    return ins, inp


class NearDuplicates:
    """Exact and near duplicates among the items of a run, decided block by block while the replies arrive.

    Exact: same instruction and input in compare form. Near: the instruction forms (see :func:`dup_forms`)
    have a character n-gram Jaccard of at least ``near_duplicate`` and so do the inputs; an empty input
    matches only another empty input, and two empty inputs are no evidence: the instruction alone decides.
    The earliest item of a group is kept and an item is dropped only for resembling a kept one (no chains).

    ``add(forms)`` numbers an item (its row); ``settle()`` decides every row added since the last call, in
    row order, against all earlier rows and each other (:class:`GramJoin`), so the decisions are the same
    whatever the blocks were: the stage settles every ``block`` items while later replies are on their way
    and writes the kept ones then, instead of comparing everything once the last reply is in. Only the
    comparison forms and the n-gram matrix stay in memory, not the items."""

    BLOCK = 512  # items per settle in the stage: the last, partial block is the work left after the last reply

    def __init__(self, filters: Mapping[str, Any], block: int = BLOCK):
        self.threshold = float(filters["near_duplicate"])
        self.n = int(filters["ngram"])
        self.block = block
        if self.threshold < 1.0:
            import scipy.sparse  # noqa: F401 - half a second: paid before the first request, not in the middle of a run
        self.forms: list[tuple[str, str] | None] = []  # None once a row is settled and out of the join
        self.kept_ids: dict[int, str] = {}
        self._pending: list[int] = []
        self._lock = threading.Lock()  # the stage settles a block in a thread while the event loop adds rows
        self._first: dict[tuple[str, str], int] = {}  # form -> its first row: exact repeats need no join
        self._joined: list[int] = []  # the rows of the join's sets, in its order
        self._join: GramJoin | None = None
        self._kept_by_form: dict[tuple[str, str], int] = {}
        self._dropped: set[int] = set()

    def add(self, forms: tuple[str, str]) -> int:
        with self._lock:
            row = len(self.forms)
            self.forms.append(forms)
            self._pending.append(row)
        return row

    @property
    def ready(self) -> bool:
        """A block's worth of items waits to be settled."""
        return len(self._pending) >= self.block

    def settle(self) -> list[tuple[int, Repeat | None]]:
        """(row, None when kept, else the earlier kept row it repeats) for every row added since the last call."""
        with self._lock:
            rows, self._pending = self._pending, []
        forms = self.forms
        alike: dict[int, list[tuple[float, float, int]]] = {}
        distinct: list[int] = []  # rows that enter the join: compared with every later row
        if self.threshold < 1.0 and rows:
            if self._join is None:
                self._join = GramJoin(self.threshold)
            distinct = [row for row in rows if self._first.setdefault(forms[row], row) == row]
            self._joined += distinct
            sets = [char_ngrams(forms[row][0], self.n, normalized=True) for row in distinct]
            for a, b, j in self._join.join(sets):
                a, b = self._joined[a], self._joined[b]
                near, _, inp = pair_verdict(forms[a], forms[b], self.threshold, self.n)
                if near:
                    alike.setdefault(b, []).append((j, inp, -a))
        out: list[tuple[int, Repeat | None]] = []
        joined = set(distinct)
        for row in rows:
            form = forms[row]
            exact = (form[0].split("\x1f")[0], form[1])
            repeat = None
            if exact in self._kept_by_form:
                repeat = Repeat(self._kept_by_form[exact], "exact", 1.0, 1.0)
            else:
                kept = [m for m in alike.get(row, ()) if -m[2] not in self._dropped]
                if kept:
                    j, inp, neg = max(kept)
                    repeat = Repeat(-neg, "near", round(j, 4), round(inp, 4))
                else:
                    self._kept_by_form[exact] = row
            if repeat is not None and row in joined:  # only rows of the join can be found alike later
                self._dropped.add(row)
            out.append((row, repeat))
        # only the rows in the join are compared again (with later rows); an exact repeat's forms are done with:
        # with a model that repeats itself, most items are such repeats and their forms were most of the memory
        with self._lock:
            for row in rows:
                if row not in joined:
                    forms[row] = None
        return out

    def resolve(self) -> dict[int, Repeat]:
        """Settle what is left; the repeats among those rows."""
        return {row: r for row, r in self.settle() if r is not None}


# Wordings a model swaps freely without changing the request. Two instructions that differ only by these (and by
# inserted or dropped words: 请, 一下, 的) can be duplicates; any other substitution (主播/助播, 低/高客单, 上升/下降,
# 60/100 字, 抖音/快手) makes them different requests, however many characters they share.
INTERCHANGEABLE = [
    {"如何", "怎么", "怎样", "怎么样", "如何才能", "怎样才能", "怎么才能", "该如何", "该怎么", "应该怎么", "应该如何", "要怎么"},
    {"哪些", "什么", "哪几个", "哪几种", "哪几", "哪", "何"},
    {"总结", "概括", "归纳", "概述", "总结一下", "概括一下"},
    {"介绍", "说明", "讲解", "讲讲", "说说", "谈谈", "解释", "阐述"},
    {"方法", "技巧", "办法", "方式", "做法"},
    {"吗", "呢", "么"},
    {"需要", "要", "得", "应该", "该"},
    {"可以", "能", "能够"},
    {"为什么", "为何", "是什么原因", "什么原因"},
    {"把", "将"}, {"成", "为", "成为"}, {"给", "为", "帮"}, {"办", "处理"}, {"资料", "材料"}, {"一直", "总是", "老是"}, {"和", "与", "跟", "及"}, {"写", "撰写", "编写"},
    {"给出", "列出", "提供", "给", "举出"}, {"以内", "以下", "之内"}, {"不超过", "最多"},
    {"通常", "一般", "一般来说", "往往"}, {"提高", "提升", "增加"}, {"时", "的时候", "时候", "中"},
    {"不同", "区别", "差别", "差异"}, {"有哪些", "包括哪些", "包含哪些"}, {"后", "以后", "之后"}, {"前", "之前", "以前"},
]
_SAME_WORDING = {(a, b) for group in INTERCHANGEABLE for a in group for b in group}


NUMBER = re.compile(r"[0-9零一二三四五六七八九十百千万两半]")
# characters that carry the grammar of a question, not its subject: a swap among them is a rewording
FUNCTION_CHARS = set("的了是有在中时下请吗呢些哪什么怎样如何要需应该能可以会都就和与及把将给为被对从由到这那个一种几还再也很更最吧啊呀嘛得地着过")


def contrasts(a: str, b: str) -> str | None:
    """The first substitution between two compare forms that changes what is asked, e.g. ``主→助``; None when
    they differ only by insertions, deletions, interchangeable wordings (``INTERCHANGEABLE``) and swaps of
    grammatical characters (的/了/吗 …). Any other swap, of any length, is taken as a different subject:
    主播/助播, 低/高客单, 直播/短视频, 60/200 字. Precision first: a reworded question that swaps a content
    word (遇到/有) is kept as a different item."""
    import difflib

    dropped, added = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "delete":
            dropped.append(a[i1:i2])
        elif op == "insert":
            added.append(b[j1:j2])
        if op != "replace":
            continue
        x, y = a[i1:i2], b[j1:j2]
        if NUMBER.search(x + y) and (NUMBER.sub("", x) != x or NUMBER.sub("", y) != y):
            return f"{x}→{y}"
        if (x, y) in _SAME_WORDING or FUNCTION_CHARS.issuperset(x + y):
            continue
        # the swap may be part of an interchangeable word (提高/提升 aligned as 高→升): look one or two characters out
        if any((a[i1 - l:i2 + r], b[j1 - l:j2 + r]) in _SAME_WORDING for l in range(3) for r in range(3)
               if i1 - l >= 0 and j1 - l >= 0 and a[i1 - l:i1] == b[j1 - l:j1] and a[i2:i2 + r] == b[j2:j2 + r]):
            continue
        return f"{x}→{y}"
    # a content word dropped on one side and another added elsewhere: the subject moved and changed (开通…/…关闭)
    gone = "".join(sorted(c for c in "".join(dropped) if c not in FUNCTION_CHARS))
    new = "".join(sorted(c for c in "".join(added) if c not in FUNCTION_CHARS))
    if gone and new and gone != new:
        return f"-{''.join(dropped)} +{''.join(added)}"
    return None


def pair_verdict(fa: tuple[str, str], fb: tuple[str, str], threshold: float, n: int) -> tuple[bool, float, float]:
    """Whether two items' forms (:func:`dup_forms`) are near duplicates, with their instruction and input
    similarities: both at least ``threshold``, an empty input only like another empty input, and no
    contrasting substitution in the instruction or input."""
    ins = jaccard(char_ngrams(fa[0], n, normalized=True), char_ngrams(fb[0], n, normalized=True))
    inp = input_similarity(fa[1], fb[1], n)
    if ins < threshold or inp < threshold:
        return False, ins, inp
    if contrasts(fa[0].split("\x1f")[0], fb[0].split("\x1f")[0]) or (fa[1] != fb[1] and contrasts(fa[1], fb[1])):
        return False, ins, inp
    return True, ins, inp


def input_similarity(a: str, b: str, n: int) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    return jaccard(char_ngrams(a, n, normalized=True), char_ngrams(b, n, normalized=True))


def resolve_repeats(forms: Sequence[tuple[str, str]], threshold: float, n: int) -> dict[int, Repeat]:
    """Row -> the earlier kept row it repeats (see :class:`NearDuplicates`), all rows at once."""
    near = NearDuplicates({"near_duplicate": threshold, "ngram": n})
    for form in forms:
        near.add(form)
    return near.resolve()


def find_repeats(items: Sequence[Mapping[str, str]], threshold: float, ngram: int, mapper: Any = None) -> list[Repeat | None]:
    """For each item, in order: None when it is kept, else the earlier kept item it repeats."""
    found = resolve_repeats([dup_forms(i) for i in items], threshold, ngram)
    return [found.get(row) for row in range(len(items))]


def grounding_of(output_grams: set[str], chunk_grams: set[str]) -> float:
    """Share of the answer's character n-grams (``output_grams``) found in the source chunk's."""
    return round(len(output_grams & chunk_grams) / len(output_grams), 4) if output_grams else 0.0
