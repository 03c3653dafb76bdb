"""The merged byline pattern (extract.BYLINE) against the two it replaced (crawl.BYLINE, extract.AUTHOR, copied
here as they were at 7c6b1df): the crawl byline of real and fixture pages, the text-header author of short lines.

    PYTHONPATH=. python bench/structure/byline_compare.py     # needs ../shared/realdata
"""
import glob
import re
import sys
from pathlib import Path

from builder.stages.corpus.crawl import TAGS
from builder.stages.corpus.extract import byline_names

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
if not REAL.is_dir():
    sys.exit(f"{REAL}: not found (the real-data folder beside the checkout)")
OLD_CRAWL = re.compile(r"(?:记者|作者|撰文|采写|通讯员)\s*[:：]?\s*((?:[\u4e00-\u9fff·]{2,4}(?![\u4e00-\u9fff])[\s、，,]*){1,3})")
OLD_TXT = re.compile(r"(?:记者|作者|文|撰文|通讯员)[\s:：/]*([\u4e00-\u9fff·]{2,6}(?:[\s、，,]+[\u4e00-\u9fff·]{2,4})*)")
pages = sorted(glob.glob(str(REAL / "html" / "*.html"))) + sorted(glob.glob("tests/fixtures/site/**/*.html", recursive=True))
same = 0
for f in pages:
    html = Path(f).read_bytes().decode("utf-8", "replace")
    body = html[html.lower().find("<body"):] if "<body" in html.lower() else html
    m = OLD_CRAWL.search(TAGS.sub(" ", body[:60000]))
    old = "、".join(n for n in re.split(r"[\s、，,]+", m.group(1)) if n) if m else None
    new = "、".join(byline_names(TAGS.sub(" ", body[:60000]))) or None
    if old == new:
        same += 1
    else:
        print("page differs:", f, repr(old), "->", repr(new))
print(f"pages: {same} of {len(pages)} give the same byline")
raw = (REAL / "encoding" / "news_tensite_xml.smarty.gbk.dat").read_bytes().decode("gb18030", "replace")
lines = [x.strip() for f in glob.glob("corpora/demo/**/*.txt", recursive=True) for x in Path(f).read_text(encoding="utf-8", errors="replace").splitlines()]
lines += [x.strip() for x in re.split(r"[\n。！？]", raw)]
short = [l for l in lines if l and len(l) <= 24]
diff = 0
for l in short:
    m = OLD_TXT.search(l)
    old = m.group(1) if m else None
    new = "、".join(byline_names(l)) or None
    if old != new:
        diff += 1
        print("line differs:", repr(l), repr(old), "->", repr(new))
print(f"short lines (<= 24 chars): {len(short) - diff} of {len(short)} give the same author")
