"""A second set of articles we wrote, kept out of the router's tuning: evaluated once, after the rules were fixed.

Different topics, wording and structure from ``written_articles.py`` (written after the rules, by the same
people who wrote them, so not blind — but none of its sentences was seen while tuning): news told as
通讯 with opinions inside quotations; commentaries in a first-person 时评 voice with questions and no
我们认为; features opening on a date or a line of dialogue; interviews as 答记者问 and as narrative with
embedded answers; explainers as 科普 with 你知道吗 and 小知识. 40 per genre.

    python bench/quality/genre_eval.py --heldout
"""

from __future__ import annotations

import random

SUBJECTS = [
    # (subject, place, body, person, figure)
    ("秋粮收购", "丰谷县", "县粮食和物资储备中心", "收购站站长钱国栋", "12.6万吨"),
    ("跨江大桥合龙", "津南市", "市交通建设集团", "项目总工程师韩立", "1680米"),
    ("博物馆夜场", "望海市", "市博物馆", "副馆长苏婉", "3.2万人次"),
    ("高温防暑", "赤岭区", "区卫生健康局", "急诊科主任邵峰", "41摄氏度"),
    ("旧衣回收", "清溪街道", "街道城管科", "志愿者队长冯小敏", "8吨"),
    ("乡村医生", "岩前村", "乡卫生院", "村医杨德明", "2300户"),
    ("校园足球", "东坪镇", "镇中心小学", "体育老师孔维", "16支球队"),
    ("社区团购", "新港区", "区市场监管局", "执法队长周岩", "47家门店"),
    ("候鸟迁徙", "苇湖湿地", "湿地保护站", "护鸟员贾春来", "5.8万只"),
    ("地铁夜间施工", "临川市", "市轨道交通公司", "调度员陆晓", "14个站点"),
]


def _s(t):
    keys = ("subject", "place", "body", "person", "figure")
    d = dict(zip(keys, t))
    d["name"] = d["person"][-3:] if d["person"][-3] not in "长任师员" else d["person"][-2:]
    return d


def news(r, d):
    title = r.choice([f"{d['place']}{d['subject']}进入高峰", f"{d['subject']}：{d['place']}{d['figure']}背后的一天",
                      f"{d['place']}{d['subject']}有了新变化", f"{d['figure']}！{d['place']}{d['subject']}创新高"])
    lead = r.choice([
        f"连日来，{d['place']}{d['subject']}工作全面展开。截至昨日，已累计完成{d['figure']}，比去年同期有所增加。",
        f"{d['body']}近日通报，{d['place']}{d['subject']}累计达到{d['figure']}，相关工作有序推进。",
        f"昨天上午，记者在{d['place']}看到，{d['subject']}现场秩序井然，{d['body']}工作人员正在逐项登记。",
    ])
    paras = [
        f"“大家都觉得应当提前准备，这次确实比往年顺。”{d['person']}告诉记者，今年提前一个月做了方案。",
        f"据{d['body']}介绍，为保障{d['subject']}，相关部门抽调{r.randint(20, 90)}名工作人员，实行错峰安排。",
        f"不少群众表示满意。一位{r.choice(['市民', '村民', '家长'])}说：“我们认为这件事必须坚持办下去，不能半途而废。”",
        f"数据显示，{d['subject']}涉及的区域比去年扩大{r.randint(5, 40)}%，其中新增点位{r.randint(3, 30)}个。",
        f"{d['body']}相关负责人透露，下一步将总结经验，在全市范围内推广。",
    ]
    r.shuffle(paras)
    return title, "\n".join([lead] + paras[: r.randint(3, 5)]), ""


def commentary(r, d):
    title = r.choice([f"{d['subject']}，谁来买单？", f"别让{d['subject']}只热三天", f"{d['subject']}里的分寸感",
                      f"我看{d['subject']}", f"{d['subject']}需要一张长期的时间表"])
    paras = [
        f"{d['place']}的{d['subject']}又上了热搜。热闹归热闹，我更关心的是：热度退去以后呢？",
        f"这些年，类似的事情见得不少。开头轰轰烈烈，过两年就无人问津，问题还在原地。为什么总是这样？",
        f"说白了，缺的不是一时的投入，而是长期的机制。钱从哪里来，人从哪里来，谁来考核，这些不想清楚，好事也会办砸。",
        f"有人会说，先干起来再说。可是，没有规划的“先干起来”，往往意味着后面要花更大的代价去补课。",
        f"我以为，与其追求声势，不如把每一个细节落到实处。让参与其中的人有获得感，事情自然能持续下去。",
        f"当然，也不必苛责。{d['subject']}本身是一件好事，关键在于怎么把它做成一件长久的事。",
    ]
    r.shuffle(paras)
    end = r.choice(["热搜会过去，日子还要过。愿这一次，不只是热闹一场。", "好事办好，从来不靠一阵风。",
                    "这笔账，值得每个决策者算清楚。"])
    author = r.choice(["", "", f"{r.choice(['许', '顾', '沈'])}{r.choice(['迟', '远', '默'])}"])
    return title, "\n".join(paras[: r.randint(4, 6)] + [end]), author


def feature(r, d):
    who = d["person"]
    title = r.choice([f"{d['name']}的{r.choice(['四季', '夜班', '第一千天'])}", f"在{d['place']}，等一场{d['subject']}",
                      f"{who}：我和{d['subject']}这些年"])
    opening = r.choice([f"2019年冬天，{who}第一次来到{d['place']}。那天风很大，他裹紧了棉袄，站在路口愣了很久。",
                        f"“你看，今天的天多好。”{who}指着远处，脸上的皱纹舒展开来。",
                        f"下午四点，阳光斜斜地照进{d['place']}的小院。{who}搬出一把竹椅，慢慢坐下。"])
    paras = [f"他记不清自己干了多少年，只记得刚来时，这里什么都没有。", f"每天的日子差不多：早起、巡一圈、记本子、吃饭、再巡一圈。",
             f"有人问他累不累，他总是笑笑，不说话，低头继续手里的活。", f"去年，他的老伴病了一场。他请了三天假，第四天又出现在老地方。",
             f"本子已经写满了二十多本，整整齐齐码在柜子里。他说，这些都是他的宝贝。",
             f"天色暗下来，他收拾好东西，锁上门，沿着来时的路往回走。身后，{d['place']}的灯一盏一盏亮了。"]
    return title, "\n".join([opening] + paras[: r.randint(4, 6)]), ""


def interview(r, d):
    who = d["person"]
    title = r.choice([f"{who}答记者问：{d['subject']}怎么做", f"“{d['subject']}没有旁观者”——访{d['body']}{who}",
                      f"{d['body']}{who}：{d['subject']}要算长远账"])
    style = r.random()
    if style < 0.5:
        qa = [(f"今年{d['subject']}有什么不同？", f"最大的不同是更早准备。我们提前做了测算，人员、物资都比往年充足。"),
              ("群众最关心什么？", "最关心的是方便不方便、公平不公平。这两点我们都做了公开承诺。"),
              ("遇到困难怎么办？", "困难肯定有，关键是发现了马上解决，不拖。我们每天开碰头会。"),
              ("下一步有什么打算？", f"把今年的做法固定下来，形成制度，明年争取达到{d['figure']}以上。")]
        r.shuffle(qa)
        lines = [f"{d['subject']}进行得怎么样？带着这个问题，记者采访了{d['body']}{who}。"]
        for q, a in qa[: r.randint(3, 4)]:
            lines += [f"问：{q}", f"答：{a}"]
    else:
        lines = [f"见到{who}时，他刚从现场回来。谈起{d['subject']}，他的话匣子一下子打开了。",
                 f"“很多人以为这件事很简单，其实不然。”{d['name']}说，光是前期摸底就花了一个多月。",
                 f"记者问他最难的是什么。他想了想说：“是让大家相信我们能做好。”",
                 f"谈到未来，{d['name']}说，希望能把经验写下来，让后来的人少走弯路。",
                 f"采访结束时，他又补充了一句：“这不是我一个人的功劳。”"]
    return title, "\n".join(lines), ""


def explainer(r, d):
    s = d["subject"]
    title = r.choice([f"你知道吗？关于{s}的几个冷知识", f"{s}小百科", f"一张图看懂{s}", f"{s}科普：这些说法对不对"])
    parts = [r.choice([f"提起{s}，很多人并不陌生，但其中的门道，未必人人都清楚。", f"{s}到底是什么？简单说，它指的是一类与日常生活相关的公共事务。"]),
             "小知识一：它并不是近几年才有的，早在几十年前就已经出现。",
             "小知识二：不同地区的做法差别很大，一般以当地公布的规定为准。",
             "误区：很多人以为越多越好，其实适量才是关键。",
             "提示：遇到问题，可以拨打当地服务热线咨询，不要轻信网上的小道消息。"]
    return title, "\n".join(parts[: r.randint(4, 5)]), r.choice(["", "科普君"])


GENRES = {"news": news, "commentary": commentary, "feature": feature, "interview": interview, "explainer": explainer}


def heldout_articles(seed: int = 1414, per_genre: int = 40) -> list[dict[str, str]]:
    r = random.Random(seed)
    out = []
    for genre, make in GENRES.items():
        for i in range(per_genre):
            d = _s(SUBJECTS[(i * 3 + len(genre)) % len(SUBJECTS)])
            title, text, author = make(r, d)
            out.append({"id": f"heldout-{genre}-{i:03d}", "source": "heldout", "path": f"heldout/{genre[:1]}{i:03d}.txt",
                        "title": title, "text": text, "author": author, "published": None, "label": genre})
    return out
