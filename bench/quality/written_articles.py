"""Articles we wrote for the genre set: news, commentary, feature, interview, explainer/how-to.

Real texts of known genre in ``../shared/realdata`` are few (most SogouCA records are news), so the
labelled set is topped up with articles composed here from paragraphs we wrote per genre. Each article
is assembled from a topic (its people, places, figures) and, per genre, several interchangeable
openings, bodies and endings, so no two articles share a skeleton and the cues a router could key on
vary: a third of the news carries no dateline, some commentaries never say 我们认为, some features open
with a quote instead of a scene, some interviews have no 专访 in the title, some explainers no
question in the title. The label is the genre the paragraphs were written as (by construction).
Deterministic: ``written_articles(seed)`` gives the same articles every time.

    python bench/quality/written_articles.py --show 3
"""

from __future__ import annotations

import argparse
import random
import re

TOPICS = [
    # (topic phrase, thing, place, organisation, official, expert, resident, figure, unit)
    ("老旧小区改造", "加装电梯", "青川市", "青川市住建局", "副局长王立群", "同济大学教授刘海波", "居民赵阿姨", "126", "个小区"),
    ("夜间经济", "夜市街区", "南屿县", "南屿县商务局", "局长陈晓峰", "省社科院研究员林静", "摊主李建国", "38", "条街区"),
    ("校园食品安全", "学校食堂", "江口区", "江口区市场监管局", "科长周敏", "营养学专家孙雅", "家长黄女士", "214", "所学校"),
    ("乡村物流", "村级快递点", "石门镇", "石门镇政府", "镇长何国华", "物流协会秘书长张蕾", "村民罗大山", "57", "个村"),
    ("社区养老", "老年食堂", "东湖街道", "东湖街道办事处", "主任蒋文斌", "老年学学者马丽君", "退休教师钱老师", "19", "个助餐点"),
    ("防汛备汛", "堤防巡查", "临江县", "临江县应急管理局", "副局长宋志强", "水利专家吴国栋", "护堤员邓师傅", "83", "公里堤防"),
    ("非遗传承", "竹编技艺", "溪山村", "溪山村文化站", "站长曾秀兰", "民俗学者高远", "竹编艺人杨伯", "12", "名学徒"),
    ("新能源汽车下乡", "充电桩", "平湖市", "平湖市发改委", "副主任梁志远", "汽车工程学会专家韩冰", "车主许先生", "460", "个充电桩"),
    ("青年就业", "见习岗位", "云州市", "云州市人社局", "局长潘建明", "劳动经济学者唐宁", "应届生小刘", "3200", "个岗位"),
    ("网络谣言治理", "辟谣平台", "海州市", "海州市网信办", "负责人董鹏", "传播学教授袁清", "网民小周", "1500", "条谣言"),
    ("全民阅读", "城市书房", "北湾区", "北湾区图书馆", "馆长许明", "出版人谢婉", "读者冯同学", "24", "家城市书房"),
    ("河道治理", "河长制", "白沙县", "白沙县水利局", "副局长卢杰", "环境学者邱敏", "渔民老谭", "9", "条河道"),
    ("基层医疗", "家庭医生签约", "柳林镇", "柳林镇卫生院", "院长崔宏", "公共卫生专家彭莉", "患者姜大爷", "5600", "户家庭"),
    ("文旅消费", "古镇夜游", "清河古镇", "清河古镇管委会", "主任贾伟", "旅游学者方圆", "游客孟女士", "12", "万人次"),
    ("数据安全", "个人信息保护", "滨海新区", "滨海新区公安分局", "副局长戴军", "法学教授顾言", "市民白先生", "37", "起案件"),
    ("农产品电商", "直播带货", "高坪县", "高坪县农业农村局", "局长薛红", "电商研究者殷实", "果农邹大哥", "860", "万元"),
]
MONTHS = ["3月", "4月", "5月", "6月", "7月", "9月", "10月", "11月"]
OUTLETS = ["本报讯", "新华社{place}{date}电", "央视网消息", "{place}日报讯", "中新网{place}{date}电", "", "", ""]


def _t(topic: tuple) -> dict[str, str]:
    keys = ("topic", "thing", "place", "org", "official", "expert", "resident", "n", "unit")
    t = dict(zip(keys, topic))
    t["name"] = re.sub(r"^.*?(副局长|局长|副主任|主任|科长|镇长|站长|馆长|院长|负责人)", "", t["official"])
    return t


def news(r: random.Random, t: dict[str, str]) -> tuple[str, str, str]:
    date = f"{r.choice(MONTHS)}{r.randint(1, 28)}日"
    outlet = r.choice(OUTLETS).format(place=t["place"][:2], date=date)
    head = r.choice([f"{t['place']}{r.choice(['启动', '推进', '完成'])}{t['topic']}，{t['n']}{t['unit']}受益",
                     f"{t['place']}{t['thing']}{r.choice(['投入使用', '扩容', '全面铺开'])}",
                     f"{t['org']}发布{t['topic']}新举措", f"{t['n']}{t['unit']}！{t['place']}{t['topic']}交出成绩单",
                     f"{t['place']}：{t['thing']}让群众少跑腿"])
    dl = (outlet + ("（记者 " + r.choice(["李响", "王晨", "周洁", "陈默"]) + "）" if outlet.endswith("讯") else "")) if outlet else ""
    lead = r.choice([
        f"{dl}{date}，记者从{t['org']}获悉，{t['place']}今年已完成{t['n']}{t['unit']}的{t['topic']}任务，{t['thing']}覆盖率比去年提高{r.randint(5, 30)}个百分点。",
        f"{dl}{date}上午，{t['place']}{t['topic']}推进会召开。会议通报，截至目前，全市（县）{t['thing']}已达{t['n']}{t['unit']}，{r.choice(['提前', '超额'])}完成年度目标。",
        f"{dl}为解决群众反映强烈的{t['topic']}难题，{t['org']}{date}起在{t['place']}推行{t['thing']}新办法，首批{t['n']}{t['unit']}纳入试点。",
    ])
    body = [
        f"据{t['org']}{t['official']}介绍，今年{t['place']}共投入资金{r.randint(2, 90)}00万元，重点解决{t['thing']}布局不均、管理不到位等问题。“我们按照‘先急后缓’的原则推进，群众最关心的点位先建。”{t['name']}说。",
        f"记者在现场看到，{t['thing']}前已有不少群众排队办理。{t['resident']}告诉记者，以前办这件事要跑好几趟，现在{r.randint(10, 40)}分钟就能办完。",
        f"数据显示，{r.choice(MONTHS)}以来，{t['place']}累计受理相关诉求{r.randint(100, 900)}件，办结率达{r.randint(90, 99)}%。{t['org']}还建立了月度通报制度，对进度滞后的单位进行督办。",
        f"{t['expert']}表示，{t['topic']}涉及面广，关键是把好事办实，“既要看数量，也要看群众用得好不好”。",
        f"按照计划，{t['place']}将在年底前再新增{r.randint(10, 99)}{t['unit']}，并同步完善后续运营和维护机制。",
        f"另据了解，{t['place']}周边{r.randint(2, 6)}个县区也已开始借鉴这一做法，相关经验将在全省推广。",
    ]
    r.shuffle(body)
    return head, "\n".join([lead] + body[: r.randint(3, 6)]), ""


def commentary(r: random.Random, t: dict[str, str]) -> tuple[str, str, str]:
    head = r.choice([f"{t['topic']}，别只盯着数字", f"让{t['thing']}真正好用", f"{t['topic']}需要“绣花功夫”",
                     f"从{t['thing']}看治理的温度", f"{t['topic']}，既要快也要稳", f"谈{t['topic']}的“最后一公里”",
                     f"{t['thing']}不能一建了之", f"{t['topic']}的账该怎么算"])
    opening = r.choice([
        f"近日，{t['place']}新建{t['n']}{t['unit']}的消息引发关注。有人点赞，也有人追问：建成之后谁来管？",
        f"据报道，{t['place']}的{t['thing']}在建成不久后就出现了使用率不高的情况。这并非个例。",
        f"{t['topic']}是近年来各地着力推进的民生工程。{t['place']}的探索，提供了一个观察的样本。",
    ])
    args = [
        f"{r.choice(['在我们看来', '我们认为', '笔者以为', '应当看到', '平心而论'])}，{t['topic']}的成效，不能只看建了多少，更要看群众用得怎么样。数字固然重要，但数字背后的体验才是检验标准。",
        f"一些地方热衷于“建起来”，却忽视了“管起来”“用起来”。{t['thing']}一旦沦为摆设，不仅浪费公共资源，也会消耗群众的信任。",
        f"把好事办好，考验的是治理的精细化水平。选址前多听听{t['resident'][:2]}这样的普通人的意见，运营中建立反馈机制，比任何口号都管用。",
        f"当然，也要看到{t['topic']}面临的现实难题：资金从哪里来、后续谁来维护、不同群体的诉求如何平衡。这些问题不会自动消失，需要制度化的安排。",
        f"说到底，民生工程是“民心工程”。少一些急功近利，多一些久久为功，{t['topic']}才能行稳致远。",
        f"试想，如果{t['thing']}只是为了应付考核，那么即便数字再漂亮，又有多少意义？政绩观的偏差，往往就藏在这些细节里。",
        "对此，有关部门理应拿出更大的诚意：公开建设和运营数据，接受社会监督，让每一笔投入都经得起追问。",
    ]
    r.shuffle(args)
    ending = r.choice([f"期待{t['topic']}少一些“盆景”，多一些“风景”。",
                       f"唯有把群众满意作为最终标尺，{t['thing']}才能真正发挥作用。",
                       "这道考题，值得每一位决策者认真作答。"])
    author = r.choice(["本报评论员", f"{r.choice(['林', '何', '苏', '叶'])}{r.choice(['平', '言', '川', '舟'])}", "", ""])
    text = "\n".join([opening] + args[: r.randint(3, 5)] + [ending])
    if author and r.random() < 0.5:
        text += f"\n（作者系{r.choice(['媒体评论员', '高校教师', '特约评论员'])}）"
    return head, text, author


def feature(r: random.Random, t: dict[str, str]) -> tuple[str, str, str]:
    name = t["resident"]
    head = r.choice([f"{name[-3:]}和他的{t['thing']}", f"守着{t['thing']}的人", f"{t['place']}的{r.choice(['清晨', '黄昏', '雨季', '冬天'])}",
                     f"一个人，{r.randint(10, 30)}年", f"在{t['place']}，{t['thing']}里的烟火气"])
    opening = r.choice([
        f"{r.choice(['清晨五点半', '天还没亮', '傍晚六点', '雨下了一整夜'])}，{t['place']}的街巷还很安静。{name}推开门，照例先看一眼{t['thing']}。",
        f"“这活儿啊，干久了就放不下了。”{name}一边擦着手，一边眯着眼看向远处。",
        f"走进{t['place']}，最先闻到的是柴火和青草混在一起的味道。{name}的家就在路的尽头。",
    ])
    body = [
        f"{name}今年{r.randint(45, 78)}岁，和{t['thing']}打交道已经{r.randint(10, 35)}年。年轻时，他也想过去城里闯一闯，最后还是留了下来。",
        "记得刚开始那几年，条件很苦。没有像样的工具，很多事都靠一双手。他摊开手掌，掌心里全是老茧。",
        "有一回，下着大雨，他一个人守到后半夜。“那时候什么都没想，就想着不能出事。”他笑着说，语气很平淡。",
        f"日子一天天过去，{t['place']}变了样。新路修通了，{t['thing']}也换了新模样，可他的习惯一点没变。",
        "邻居们都说他“倔”。他却说，人这一辈子，能把一件事做好就不容易。",
        "女儿几次劝他歇一歇，他总是摆摆手：“再干两年，等有人接班了再说。”",
    ]
    r.shuffle(body)
    ending = r.choice([f"夕阳落下，{name}的身影被拉得很长。明天，他还会准时出现在这里。",
                       f"临走时，他又回头看了一眼{t['thing']}，像是在和一位老朋友告别。",
                       f"夜色渐浓，{t['place']}的灯一盏盏亮了起来。"])
    return head, "\n".join([opening] + body[: r.randint(3, 6)] + [ending]), ""


def interview(r: random.Random, t: dict[str, str]) -> tuple[str, str, str]:
    who = t["official"]
    short = t["name"]
    head = r.choice([f"专访{t['org']}{who}：{t['topic']}要让群众有获得感", f"对话{short}：{t['thing']}下一步怎么走",
                     f"{short}：{t['topic']}没有捷径", f"{t['topic']}怎么干？听听{short}怎么说",
                     f"面对面｜{t['org']}{who}谈{t['topic']}"])
    q = r.choice(["记者", "问", "本报记者", f"《{t['place'][:2]}日报》"])
    a = r.choice([short, "答", short])
    intro = r.choice([f"{t['topic']}推进一年来，成效如何、难点在哪？日前，记者专访了{t['org']}{who}。",
                      f"围绕{t['topic']}的热点问题，{t['org']}{who}接受了本报记者采访。", ""])
    qa = [
        (f"今年{t['place']}在{t['topic']}方面做了哪些工作？", f"我们主要抓了三件事：一是摸清底数，二是完善{t['thing']}布局，三是建立长效管理机制。目前已经完成{t['n']}{t['unit']}，群众反映总体不错。"),
        ("推进过程中遇到的最大困难是什么？", f"最难的是协调。{t['thing']}涉及多个部门、很多家庭，每一方都有自己的考虑。我们的办法是多沟通、多公开，把账算清楚。"),
        ("有群众担心建成后没人管，您怎么看？", "这个担心很有道理。我们正在制定运营维护办法，明确责任主体，同时引入第三方评估，让群众参与监督。"),
        ("下一步有什么打算？", f"明年我们计划再覆盖{r.randint(20, 90)}{t['unit']}，同时更加注重使用效果，不搞一刀切。"),
        (f"对于其他地方推进{t['topic']}，您有什么建议？", "最重要的是从群众需求出发，先试点、再推广，不要一窝蜂。"),
    ]
    r.shuffle(qa)
    lines = [intro] if intro else []
    for qq, aa in qa[: r.randint(3, 5)]:
        lines += [f"{q}：{qq}", f"{a}：{aa}"]
    return head, "\n".join(lines), ""


def explainer(r: random.Random, t: dict[str, str]) -> tuple[str, str, str]:
    term = r.choice([t["thing"], t["topic"]])
    head = r.choice([f"什么是{term}？一文读懂", f"{term}怎么申请？这份指南请收好", f"关于{term}，你需要知道的五件事",
                     f"{term}是怎么回事", f"如何用好{term}：手把手教你", f"{term}常见问题解答"])
    opening = r.choice([f"所谓{term}，是指围绕{t['topic']}提供的一项公共服务，一般由{t['org'][-3:]}等部门牵头组织实施。",
                        f"最近不少读者来信询问{term}的有关问题。本文梳理了办理流程和注意事项，供大家参考。",
                        f"{term}和每个人的生活息息相关。简单来说，它指的是{t['topic']}中面向居民的具体服务。"])
    steps = ["第一步，确认资格。通常情况下，本地常住居民均可申请，部分项目对年龄或收入有要求。",
             "第二步，准备材料。一般需要身份证、户口簿或居住证，以及相关证明材料的复印件。",
             "第三步，提交申请。可以通过政务服务网、手机小程序或到社区服务中心线下办理。",
             f"第四步，等待审核。审核时限一般为{r.randint(5, 20)}个工作日，结果会以短信方式通知。"]
    tips = [f"需要注意的是，不要轻信所谓“内部渠道”“加急办理”，{term}办理不收取任何费用。",
            "常见误区：很多人以为材料越多越好，其实按清单准备即可，多交反而可能延误审核。",
            "如果对结果有异议，可以在收到通知之日起十五日内申请复核。",
            "小贴士：办理前可先拨打12345热线咨询，了解本地的具体要求。"]
    parts = [opening]
    if r.random() < 0.7:
        parts += steps[: r.randint(3, 4)]
    else:
        parts += [f"一、{term}的适用范围", f"{term}主要面向{t['place']}等地的常住居民，具体范围以当地公布的清单为准。",
                  "二、办理渠道", "线上可通过政务服务平台办理，线下可到社区服务中心窗口办理。"]
    r.shuffle(tips)
    parts += tips[: r.randint(2, 3)]
    return head, "\n".join(parts), r.choice(["", "政务小助手", "科普君"])


GENRES = {"news": news, "commentary": commentary, "feature": feature, "interview": interview, "explainer": explainer}


def written_articles(seed: int = 14, per_genre: int = 60) -> list[dict[str, str]]:
    r = random.Random(seed)
    out = []
    for genre, make in GENRES.items():
        for i in range(per_genre):
            t = _t(TOPICS[(i * 7 + len(genre)) % len(TOPICS)])
            title, text, author = make(r, t)
            out.append({"id": f"written-{genre}-{i:03d}", "source": "written", "path": f"written/{genre[:1]}{i:03d}.txt",
                        "title": title, "text": text, "author": author, "published": None, "label": genre})
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--show", type=int, default=2)
    args = ap.parse_args()
    arts = written_articles()
    for g in GENRES:
        for a in [x for x in arts if x["label"] == g][: args.show]:
            print(f"== {a['label']} | {a['title']} | {a['author']}\n{a['text']}\n")
