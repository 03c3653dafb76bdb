"""Boilerplate lines of Chinese media pages and reposts.

Two rules, each with its own counter:
- ``line``: a short line that is an editor credit, a repost header, a share/follow prompt, a contact
  or promotion line is dropped wherever it is;
- ``tail``: a line that opens the promotional tail of a page (关于我们, 限时特惠, 发表回复, 推荐阅读 …)
  in the last part of a document cuts everything after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINE = 90  # longer lines are article text, never boilerplate

LINE_PATTERNS = [
    r"^[（(\[【]?(责任编辑|责编|编辑|校对|审核|审校|终审|监制|出品人?|策划|美编|统筹|主编|值班编辑|实习编辑)[:：\s]",
    # a byline, not an interview question (记者：…？ is article text)
    r"^[（(\[【]?(作者|记者)[:：\s][^，。？！?!；]{0,30}$",
    r"^[（(\[【]?(来源|稿源|文章来源|信息来源|本文来源|消息来源|图片来源|视频来源|题图来源|图源)[:：]",
    r"^[（(\[【]?原标题[:：]",
    r"^[（(\[【]?本文(转自|转载自|来自|系|为|经|首发|原载|作者)",
    r"(转载请注明|未经授权.{0,10}(转载|使用)|版权(归|所有|声明)|免责声明|声明[:：].{0,30}转载|侵权.{0,6}(联系|删除))",
    r"(扫码|扫描二维码|长按(识别)?(二维码|图片)|识别二维码|关注(我们|公众号|本号|微信)|点击(查看|阅读原文|关注|下方|上方|蓝字|这里|链接|进入)|阅读原文|欢迎关注|求关注|点个(赞|在看)|(记得|求|欢迎)点赞|点赞.{0,3}(关注|转发|收藏|在看)|分享到|转发到|朋友圈|一键三连)",
    r"(商务合作|广告合作|合作请|投稿(邮箱|请)|联系(我们|方式|电话)[:：]?|加(我|小编)?微信|微信号[:：]|站长微信|[Vv][Xx][:：]|QQ群|客服电话)",
    r"((课程|训练营|会员|社群|资料包).{0,20}(报名|优惠|限时|特惠|仅需|免费领取|咨询)|限时特惠|全站资源|仅需\d+元)",
    r"^[（(]?(图|图片|视频|摄影|摄)[/:：]",
    r"^(上一篇|下一篇|相关阅读|推荐阅读|延伸阅读|热门推荐|更多精彩|往期回顾|往期推荐|相关新闻|相关文章)",
    r"^(发表(回复|评论)|您的邮箱地址不会被公开|必填项已用)",
    r"(ICP备|网安备|增值电信业务经营许可证)",
]

TAIL_MARKERS = re.compile(
    r"^(关于我们|关于作者|作者简介|限时特惠|发表回复|发表评论|推荐阅读|相关推荐|往期回顾|往期推荐|热门文章|精彩推荐|END|-+\s*END\s*-+|—+\s*END\s*—+)[:：]?\s*$"
)
TAIL_ZONE = 0.6  # a tail marker counts only after this share of the lines


@dataclass
class BoilerplateRemover:
    extra: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.line_re = re.compile("|".join(f"(?:{p})" for p in LINE_PATTERNS + list(self.extra)))

    def __call__(self, text: str, tail: bool = True) -> tuple[str, int, int]:
        """Return (cleaned text, lines dropped, lines cut from the tail); ``tail=False`` skips the tail cut
        (a page in the middle of a document has no promotional tail)."""
        lines = text.split("\n")
        cut = 0
        nonempty = [i for i, line in enumerate(lines) if line.strip()]
        if tail and len(nonempty) >= 4:
            start = nonempty[int(len(nonempty) * TAIL_ZONE)]
            for i in range(start, len(lines)):
                if TAIL_MARKERS.match(lines[i].strip()):
                    cut = sum(1 for line in lines[i:] if line.strip())
                    lines = lines[:i]
                    break
        kept, dropped = [], 0
        for line in lines:
            s = line.strip()
            if s and len(s) <= MAX_LINE and self.line_re.search(s):
                dropped += 1
                continue
            kept.append(line)
        return "\n".join(kept).strip(), dropped, cut
