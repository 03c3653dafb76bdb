"""A third set of articles we wrote, after the router's last change, evaluated once and not tuned on.

Other voices again: news as wire briefs and market reports; commentaries as 编者按-style editorials
and 笔者 columns; features as profiles of a woman told with 她; interviews as broadcast transcripts
(主持人：/嘉宾：); explainers as 政策解读 in question-and-answer form — the hard case, since their Q&A
looks like an interview. 30 per genre.

    python bench/quality/genre_eval.py --heldout
"""

from __future__ import annotations

import random

CASES = [
    ("新能源公交", "南陵市", "市公交集团", "林晓梅", "420辆"),
    ("老年助餐", "红枫社区", "社区居委会", "陶玉兰", "1.3万份"),
    ("职业技能培训", "西河县", "县人社局", "秦慧", "2800人次"),
    ("山区护林", "青峰林场", "林场管理处", "吕春燕", "3.6万亩"),
    ("夜间急诊", "滨江医院", "医院急诊科", "何佳", "190人次"),
    ("非遗刺绣", "苗岭村", "村文化合作社", "龙秀英", "60名绣娘"),
]


def _c(t):
    return dict(zip(("topic", "place", "org", "woman", "figure"), t))


def news(r, c):
    title = r.choice([f"{c['place']}{c['topic']}规模达{c['figure']}", f"{c['org']}：{c['topic']}本月起扩面",
                      f"{c['topic']}提速 {c['place']}再添{c['figure']}"])
    body = [r.choice([f"本报讯 {c['org']}日前发布消息，{c['place']}{c['topic']}规模已达{c['figure']}，预计年底前再扩大两成。",
                      f"{c['place']}{c['topic']}工作{r.randint(3, 11)}月{r.randint(1, 28)}日正式启动，首批覆盖{c['figure']}。",
                      f"据{c['org']}统计，今年前三季度，{c['place']}{c['topic']}累计完成{c['figure']}，同比增长{r.randint(5, 30)}%。"]),
            f"{c['org']}负责人介绍，此项工作纳入年度民生实事，资金由市县两级财政共同承担。",
            f"记者了解到，相关配套措施将于下月出台，具体标准另行公布。",
            f"业内人士分析认为，{c['topic']}的推进有助于补齐公共服务短板。"]
    return title, "\n".join(body[: r.randint(2, 4)]), ""


def commentary(r, c):
    title = r.choice([f"{c['topic']}，贵在坚持", f"为{c['topic']}多想一步", f"{c['topic']}不是选择题"])
    paras = [f"编者按：{c['place']}推进{c['topic']}的做法引起关注。本期刊发评论，谈谈其中的道理。",
             f"笔者以为，{c['topic']}看似小事，实则关系千家万户的日常。",
             f"须知，一项公共服务能否长久，不在于启动时的声势，而在于是否真正解决了群众的难处。",
             f"{c['topic']}要做好，离不开持续投入，更离不开细致的管理。投入可以一次到位，管理却要天天在线。",
             f"倘若只追求数量，忽视质量，再多的{c['figure']}也只是纸面上的成绩。",
             f"归根到底，衡量{c['topic']}的标尺只有一把：群众满不满意。"]
    return title, "\n".join(paras[r.randint(0, 1):]), r.choice(["", "本刊评论员", "评论员 钟言"])


def feature(r, c):
    w = c["woman"]
    title = r.choice([f"{w}的{c['topic']}路", f"她把青春留在了{c['place']}", f"{c['place']}有个{w}"])
    paras = [f"{w}出生在{c['place']}附近的一个小村子。十八岁那年，她第一次离开家，去城里学手艺。",
             f"她没想到，兜兜转转，自己又回到了这里。“那时候觉得，家乡需要人。”她说。",
             f"刚开始的日子并不顺利。没有人相信一个年轻姑娘能做成这件事，她就一家一家地上门解释。",
             f"她的手机里存着几百个联系人，每一个背后都有一段故事。说起这些，她的眼睛亮了起来。",
             f"一晃十年过去了。当年的姑娘已经成了别人口中的“{w[0]}姐”。",
             f"夜深了，她关上灯，院子里只剩下虫鸣。明天一早，她还要出门。"]
    return title, "\n".join(paras[: r.randint(4, 6)]), ""


def interview(r, c):
    title = r.choice([f"【访谈】{c['topic']}如何走得更远", f"直播间里聊{c['topic']}", f"{c['topic']}，听一线的声音"])
    lines = [f"本期节目，我们邀请到{c['org']}的{c['woman']}，聊聊{c['topic']}的那些事。",
             f"主持人：您好，欢迎来到节目。先请您介绍一下{c['topic']}现在的情况。",
             f"{c['woman']}：目前规模已经达到{c['figure']}，覆盖面比前几年大了不少。",
             "主持人：推进中遇到的最大挑战是什么？",
             f"{c['woman']}：是人手。专业人员太少，我们一直在想办法培养。",
             "主持人：对听众朋友有什么想说的？",
             f"{c['woman']}：欢迎大家多提意见，我们会认真听。"]
    return title, "\n".join(lines[: r.randint(5, 7)]), ""


def explainer(r, c):
    title = r.choice([f"{c['topic']}新政解读来了", f"关于{c['topic']}，权威解答看这里", f"{c['topic']}政策问答"])
    lines = [f"{c['org']}近日出台{c['topic']}相关办法。围绕群众关心的问题，我们整理了以下解答。",
             f"问：哪些人可以享受{c['topic']}？",
             "答：户籍或居住证在本地的居民均可申请，特殊群体优先。",
             "问：需要准备哪些材料？",
             "答：一般需要身份证明和申请表，部分情形还需提供相关证明。",
             "问：在哪里办理？",
             "答：可以在政务服务网上办理，也可以到社区服务中心窗口办理。"]
    return title, "\n".join(lines[: r.randint(5, 7)]), ""


GENRES = {"news": news, "commentary": commentary, "feature": feature, "interview": interview, "explainer": explainer}


def heldout2_articles(seed: int = 2828, per_genre: int = 30) -> list[dict[str, str]]:
    r = random.Random(seed)
    out = []
    for genre, make in GENRES.items():
        for i in range(per_genre):
            c = _c(CASES[(i + len(genre)) % len(CASES)])
            title, text, author = make(r, c)
            out.append({"id": f"heldout2-{genre}-{i:03d}", "source": "heldout2", "path": f"heldout2/{genre[:1]}{i:03d}.txt",
                        "title": title, "text": text, "author": author, "published": None, "label": genre})
    return out
