"""A Chinese news near-duplicate benchmark with known truth, built at run time from real sentences.

Sentences come from the demo corpus and, when ``../shared/realdata`` is there, from real third-party
news (SogouCA records, the Sohu 2021 pair texts, saved article pages). They are read at run time and
never written into the repository. A sentence is either used as it is (a *shared* sentence: stock
phrasing, quotes, boilerplate, drawn Zipf-like so some recur in thousands of unrelated articles) or
made unique by swapping about 40% of its words for other corpus words of the same length and
redrawing its numbers.

Documents (``cluster`` = the story a document reports; ``kind`` says how it was made):

- original: an article of 4-8 paragraphs, sometimes with a 新华社…电（记者…） dateline; ~12% of its
  sentences are shared ones.
- template events (``family`` >= 0): one skeleton with slots (country, person, city, organisation,
  number, date, 第N), filled per event, plus 0-2 event-specific sentences. Different events are
  different stories: same wording, different names and numbers (Jaccard 0.4-0.9).
- headline series: short items that differ only in a number or ordinal (第三集/第四集, 11枚/8枚金牌),
  each its own story; exact reposts of a headline are duplicates.
- roundups: a digest (新闻联播摘要 style) quoting one popular brief (drawn Zipf-like over all stories,
  so the first ones are quoted in ten or more distinct roundups: the hub that chained everything
  through containment) and 3-9 briefs of recent stories. A roundup is its own story.
- duplicates of a story: repost (原标题/来源 header, 责任编辑 footer, new title), edit (sentences inserted
  and deleted), typos, reorder, truncate (first 60-90%), excerpt (35-60% of the paragraphs), brief
  (title + lead, contained in the article) and mixes of repost/edit/typos/reorder/truncate.

    python bench/dedup/generate.py --docs 2000 --out bench/out/dedup/corpus_2000.parquet
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "corpora" / "demo"
REALDATA = Path(os.environ.get("BUILDER_REALDATA", ROOT.parent / "shared" / "realdata"))
SENT = re.compile(r"(?<=[。！？])")
TAG = re.compile(r"<[^>]+>")
SCRIPT = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.S | re.I)
NUM = re.compile(r"\d+(?:\.\d+)?")
HAN = re.compile(r"[\u4e00-\u9fff]")
BAD = re.compile(r"[?�\ue000-\uf8ff]|&[a-z]+;")

HEADERS = ["原标题：{t}", "来源：{s}", "本文转自“{s}”微信公众号", "转自：{s}客户端", "编者按：本文经授权转载", "{s}讯"]
FOOTERS = ["责任编辑：{n}", "扫码关注{s}，获取更多资讯", "点击阅读原文查看更多", "（本文来源：{s}，转载请注明出处）", "声明：转载此文是出于传递更多信息之目的"]
OUTLETS = ["青川日报", "临江晚报", "南屏融媒", "江川新闻网", "嘉和发布", "滨海观察", "云岭之声", "北辰客户端", "东陵网"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉红建文晶斌宇浩凯帆欣怡佳琪思远晓岚子涵梓轩一鸣雨泽嘉懿"
COUNTRIES = ["马尔代夫", "乌兹别克斯坦", "哈萨克斯坦", "巴基斯坦", "柬埔寨", "老挝", "越南", "泰国", "缅甸", "蒙古国", "尼泊尔",
             "斯里兰卡", "孟加拉国", "印度尼西亚", "马来西亚", "新加坡", "菲律宾", "埃及", "埃塞俄比亚", "肯尼亚", "坦桑尼亚",
             "赞比亚", "南非", "尼日利亚", "阿尔及利亚", "摩洛哥", "塞尔维亚", "匈牙利", "希腊", "葡萄牙", "西班牙", "法国",
             "德国", "意大利", "巴西", "阿根廷", "智利", "秘鲁", "古巴", "墨西哥", "土库曼斯坦", "吉尔吉斯斯坦", "塔吉克斯坦"]
CITIES = ["青川", "临江", "南屏", "江川", "嘉和", "滨海", "云岭", "北辰", "东陵", "西岭", "安平", "长宁", "永和", "清河",
          "白沙", "石门", "龙泉", "凤城", "金沙", "玉溪", "梅川", "柳江", "桃源", "松原"]
ORGS = ["宣传部", "组织部", "统战部", "政法委", "发改委", "教育局", "卫健委", "交通运输局", "生态环境局", "文旅局",
        "市场监管局", "应急管理局", "农业农村局", "住建局", "科技局", "商务局"]
CN_DIGITS = "一二三四五六七八九"
SLOT_TYPES = ["country", "person", "city", "org", "number", "date", "ordinal"]
TYPO_CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
SERIES = ["纪录片《{w}》第{o}集", "{c}第{o}次彩排顺利举行", "{c}代表团今天获得{n}枚金牌", "第{o}届{w}论坛在{c}开幕",
          "{c}召开{g}长会议", "{w}专题片第{o}集播出", "{c}第{o}批{w}项目集中签约", "今天{c}新增{n}个{w}"]


def cn_number(k: int) -> str:
    if k <= 10:
        return "零一二三四五六七八九十"[k]
    if k < 20:
        return "十" + (CN_DIGITS[k - 11] if k > 10 else "")
    tens, ones = divmod(k, 10)
    return CN_DIGITS[tens - 1] + "十" + (CN_DIGITS[ones - 1] if ones else "")


def _clean_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        for sent in SENT.split(line.strip()):
            sent = sent.strip()
            if 10 <= len(sent) <= 90 and not BAD.search(sent) and len(HAN.findall(sent)) >= 0.7 * len(sent):
                out.append(sent if sent[-1] in "。！？" else sent + "。")
    return out


def demo_texts() -> list[str]:
    texts = []
    for f in sorted(DEMO.rglob("*")):
        if f.name.startswith(("GROUND_TRUTH", "README")) or "reposts" in f.parts or "junk" in f.parts or "gbk" in f.parts:
            continue
        if f.suffix in (".txt", ".md"):
            texts.append(f.read_text(encoding="utf-8", errors="ignore"))
        elif f.suffix == ".html":
            texts.append(TAG.sub("\n", SCRIPT.sub("", f.read_text(encoding="utf-8", errors="ignore"))))
        elif f.suffix == ".jsonl":
            for line in f.read_text(encoding="utf-8").splitlines():
                try:
                    texts.append(json.loads(line).get("content", ""))
                except json.JSONDecodeError:
                    pass
    return texts


def real_texts() -> list[str]:
    """Real news text from ../shared/realdata, read at run time (empty when the folder is absent)."""
    texts: list[str] = []
    sogou = REALDATA / "encoding" / "news_tensite_xml.smarty.gbk.dat"
    if sogou.exists():
        raw = sogou.read_bytes().decode("gb18030", errors="replace")
        texts += re.findall(r"<content>(.*?)</content>", raw, re.S)
    sohu = REALDATA / "dedup_pairs" / "sohu2021_dd_test.jsonl"
    if sohu.exists():
        for line in sohu.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [row["sentence1"], row["sentence2"]]
    for page in sorted((REALDATA / "html").glob("*.html")) if (REALDATA / "html").exists() else []:
        html = page.read_text(encoding="utf-8", errors="ignore")
        texts.append(TAG.sub("\n", SCRIPT.sub("", html)))
    return texts


def sentence_pool() -> tuple[list[str], list[list[str]], dict[int, list[str]]]:
    """Distinct real sentences, their jieba words, and same-length word lists for swaps."""
    import jieba

    jieba.setLogLevel(60)
    seen, sents = set(), []
    for text in demo_texts() + real_texts():
        for s in _clean_lines(text):
            if s not in seen:
                seen.add(s)
                sents.append(s)
    words = [jieba.lcut(s) for s in sents]
    vocab: dict[int, set[str]] = {}
    for ws in words:
        for w in ws:
            if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", w):
                vocab.setdefault(len(w), set()).add(w)
    return sents, words, {k: sorted(v) for k, v in vocab.items()}


class NewsMaker:
    def __init__(self, seed: int):
        self.rnd = random.Random(seed)
        self.sents, self.words, self.vocab = sentence_pool()
        order = list(range(len(self.sents)))
        self.rnd.shuffle(order)
        self.shared = [self.sents[i] for i in order[: max(50, len(order) // 4)]]  # stock sentences, quoted verbatim
        self.shared_weights = [1.0 / (k + 1) ** 0.8 for k in range(len(self.shared))]

    # -- pieces --------------------------------------------------------------------------------------------
    def person(self) -> str:
        return self.rnd.choice(SURNAMES) + "".join(self.rnd.choice(GIVEN) for _ in range(self.rnd.choice((1, 2))))

    def words_of_unique(self) -> list[str]:
        rnd = self.rnd
        out = []
        for w in rnd.choice(self.words):
            if len(w) in self.vocab and rnd.random() < 0.4 and re.fullmatch(r"[\u4e00-\u9fff]+", w):
                w = rnd.choice(self.vocab[len(w)])
            elif NUM.fullmatch(w):
                w = str(rnd.randint(1, 31) if rnd.random() < 0.6 else rnd.randint(32, 9800))
            out.append(w)
        return out

    def unique_sentence(self) -> str:
        return "".join(self.words_of_unique())

    def shared_sentence(self) -> str:
        return self.rnd.choices(self.shared, self.shared_weights)[0]

    def sentence(self) -> str:
        return self.shared_sentence() if self.rnd.random() < 0.12 else self.unique_sentence()

    def title(self) -> str:
        return re.sub(r"[。！？，；：]", "", self.unique_sentence())[:26]

    def dateline(self) -> str:
        rnd = self.rnd
        return f"新华社{rnd.choice(CITIES)}{rnd.randint(1, 12)}月{rnd.randint(1, 28)}日电（记者{self.person()}）"

    def article(self) -> tuple[str, list[list[str]]]:
        rnd = self.rnd
        paras = [[self.sentence() for _ in range(rnd.randint(2, 4))] for _ in range(rnd.randint(4, 8))]
        if rnd.random() < 0.4:
            paras[0][0] = self.dateline() + paras[0][0]
        return self.title(), paras

    # -- template events -------------------------------------------------------------------------------------
    def skeleton(self) -> tuple[list, list[list[list]]]:
        """A title and paragraphs whose sentences are word lists with ('slot', type) markers."""
        rnd = self.rnd
        types = rnd.sample(SLOT_TYPES, rnd.randint(2, 4))

        def sent() -> list:
            ws: list = self.words_of_unique()
            if rnd.random() < 0.55:
                spots = [i for i, w in enumerate(ws) if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", w)]
                if spots:
                    ws[rnd.choice(spots)] = ("slot", rnd.choice(types))
            return ws

        title = [("slot", types[0])] + list(self.title()[:14])
        paras = [[sent() for _ in range(rnd.randint(2, 3))] for _ in range(rnd.randint(3, 6))]
        return title, paras

    def event(self, skeleton) -> tuple[str, list[list[str]]]:
        rnd = self.rnd
        values = {"country": rnd.choice(COUNTRIES), "person": self.person(), "city": rnd.choice(CITIES),
                  "org": rnd.choice(ORGS), "number": str(rnd.randint(2, 980)),
                  "date": f"{rnd.randint(1, 12)}月{rnd.randint(1, 28)}日", "ordinal": "第" + cn_number(rnd.randint(1, 30))}

        def fill(ws) -> str:
            return "".join(values[w[1]] if isinstance(w, tuple) else w for w in ws)

        title, paras = skeleton
        out = [[fill(s) for s in p] for p in paras]
        for _ in range(rnd.randint(0, 2)):  # event-specific sentences
            p = rnd.choice(out)
            p[rnd.randrange(len(p))] = self.unique_sentence()
        return fill(title), out

    def series(self) -> list[str]:
        rnd = self.rnd
        pattern = rnd.choice(SERIES)
        w = rnd.choice(self.vocab[rnd.choice([2, 3, 4])])
        c, g = rnd.choice(CITIES), rnd.choice(ORGS)
        out = []
        for k in rnd.sample(range(1, 31), rnd.randint(3, 12)):
            out.append(pattern.format(w=w, c=c, g=g, o=cn_number(k), n=k))
        if "{g}" in pattern:
            out = [pattern.format(w=w, c=c, g=gg, o="", n=0) for gg in rnd.sample(ORGS, rnd.randint(3, 6))]
        return out


def render(title: str, paras: list[list[str]]) -> str:
    return title + "\n\n" + "\n\n".join("".join(p) for p in paras)


def brief_of(title: str, paras: list[list[str]]) -> str:
    return title + "。" + "".join(paras[0][:2])


def make_variant(kind: str, title: str, paras: list[list[str]], maker: NewsMaker) -> tuple[str, list[list[str]]]:
    rnd = maker.rnd
    paras = [list(p) for p in paras]
    if kind == "repost":
        outlet = rnd.choice(OUTLETS)
        head = [h.format(t=title, s=outlet) for h in rnd.sample(HEADERS, rnd.randint(1, 3))]
        foot = [f.format(n=maker.person(), s=outlet) for f in rnd.sample(FOOTERS, rnd.randint(1, 3))]
        title = maker.title()
        paras = [[h] for h in head] + paras + [[f] for f in foot]
    elif kind == "edit":
        for _ in range(rnd.randint(1, 2)):
            p = rnd.choice(paras)
            if len(p) > 1:
                p.pop(rnd.randrange(len(p)))
        for _ in range(rnd.randint(1, 2)):
            p = rnd.choice(paras)
            p.insert(rnd.randrange(len(p) + 1), maker.unique_sentence())
    elif kind == "typos":
        flat = [(i, j) for i, p in enumerate(paras) for j in range(len(p))]
        for _ in range(rnd.randint(2, 6)):
            i, j = rnd.choice(flat)
            s = paras[i][j]
            k = rnd.randrange(len(s))
            paras[i][j] = s[:k] + rnd.choice(TYPO_CHARS) + s[k + 1 :]
    elif kind == "reorder":
        rest = paras[1:]
        rnd.shuffle(rest)
        paras = paras[:1] + rest
    elif kind == "truncate":
        text = "\n\n".join("".join(p) for p in paras)
        cut = int(len(text) * rnd.uniform(0.6, 0.9))
        paras = [[x] for x in text[:cut].split("\n\n") if x]
    elif kind == "excerpt":
        n = len(paras)
        k = max(2, round(n * rnd.uniform(0.35, 0.6)))
        start = rnd.randrange(0, n - k + 1)
        paras = paras[start : start + k]
        title = maker.title()
    return title, paras


SINGLE = ["repost", "edit", "typos", "reorder", "truncate", "excerpt", "brief"]


def variant(title, paras, maker) -> tuple[str, str]:
    rnd = maker.rnd
    kind = rnd.choice(SINGLE + ["mix", "mix"])
    if kind == "brief":
        return kind, brief_of(title, paras)
    if kind != "mix":
        return kind, render(*make_variant(kind, title, paras, maker))
    kinds = rnd.sample(["repost", "edit", "typos", "reorder", "truncate"], rnd.randint(2, 3))
    for k in kinds:
        title, paras = make_variant(k, title, paras, maker)
    return "mix:" + "+".join(kinds), render(title, paras)


def generate(n_docs: int, seed: int = 0, dup_share: float = 0.4) -> pl.DataFrame:
    maker = NewsMaker(seed)
    rnd = maker.rnd
    rows: list[dict] = []
    briefs: list[str] = []  # briefs of earlier stories, for roundups
    cluster = family = 0
    headlines: set[str] = set()

    def story(title: str, paras: list[list[str]], kind: str, fam: int = -1) -> None:
        nonlocal cluster
        rows.append({"cluster": cluster, "kind": kind, "family": fam, "text": render(title, paras)})
        briefs.append(brief_of(title, paras))
        if rnd.random() < dup_share:
            for _ in range(rnd.choice([1, 1, 2, 2, 3, 4])):
                vkind, text = variant(title, paras, maker)
                rows.append({"cluster": cluster, "kind": vkind, "family": fam, "text": text})
        cluster += 1

    while len(rows) < n_docs:
        u = rnd.random()
        if u < 0.08:  # same-template events
            sk = maker.skeleton()
            for _ in range(rnd.randint(2, 6)):
                story(*maker.event(sk), "event", family)
            family += 1
        elif u < 0.11:  # headline series: short items that differ in a number or a name
            for h in maker.series():
                if h in headlines:  # the same headline text from another series is not a different story
                    continue
                headlines.add(h)
                rows.append({"cluster": cluster, "kind": "headline", "family": family, "text": h})
                for _ in range(rnd.choice([0, 0, 1, 2])):
                    rows.append({"cluster": cluster, "kind": "headline_repost", "family": family,
                                 "text": h.replace("第", "第 ", 1) + rnd.choice(["", "！", "。"])})
                cluster += 1
            family += 1
        elif u < 0.14 and len(briefs) > 20:  # a roundup quoting briefs of other stories (popular ones often)
            # one popular brief (Zipf over the stories so far: the hub quoted by many roundups) and 3-9 recent ones
            hub = min(len(briefs) - 1, int(rnd.paretovariate(1.0)) - 1)
            recent = rnd.sample(range(max(0, len(briefs) - 500), len(briefs)), min(rnd.randint(3, 9), len(briefs) // 2))
            quoted = [briefs[i] for i in sorted({hub, *recent})]
            intro = f"【{rnd.choice(CITIES)}新闻联播摘要】{rnd.randint(1, 12)}月{rnd.randint(1, 28)}日" + maker.unique_sentence()
            rows.append({"cluster": cluster, "kind": "roundup", "family": -1, "text": intro + "\n\n" + "\n\n".join(quoted)})
            cluster += 1
        else:
            story(*maker.article(), "original")
    rows = rows[:n_docs]
    order = list(range(len(rows)))
    rnd.shuffle(order)  # duplicates come before or after their original
    import xxhash

    df = pl.DataFrame([rows[i] for i in order])
    ids = [xxhash.xxh3_64_hexdigest(f"bench:{seed}:{k}".encode()) for k in range(df.height)]
    return df.with_columns(pl.Series("id", ids)).select("id", "cluster", "kind", "family", "text")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    df = generate(args.docs, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(args.out)
    print(f"{df.height} documents, {df['cluster'].n_unique()} stories, {df.height - df['cluster'].n_unique()} duplicates; "
          f"mean {df['text'].str.len_chars().mean():.0f} chars; kinds: "
          + ", ".join(f"{k} {v}" for k, v in df.group_by(pl.col("kind").str.replace(r"^mix:.*", "mix")).len().sort("len", descending=True).iter_rows())
          + f" -> {args.out}")


if __name__ == "__main__":
    main()
