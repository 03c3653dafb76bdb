"""The boilerplate line model (builder/text/line_model.py): what the shipped model takes and what it leaves."""

import pytest

from builder.text.boilerplate import BoilerplateRemover
from builder.text.line_model import LineModel, default_model, features, train

P1 = "记者从市交通运输局获悉，今年全市新增公交线路十二条，覆盖了城郊结合部的二十多个新建小区。"
P2 = "据介绍，新线路开通后，沿线居民到地铁站的平均时间缩短了八分钟，早高峰的换乘压力明显减轻。"
P3 = "下一步，交通部门还将根据客流变化调整发车间隔，并在部分站点增设候车亭和电子站牌。"


def clean(text: str, **kw) -> tuple[str, list[tuple[str, str]]]:
    return BoilerplateRemover(**kw).explain(text, link_pages=True)


def test_the_shipped_model_loads_and_its_features_are_stable():
    """The model file is the weights of hashed features: a change to the hashing would silently turn it into
    noise, so a known furniture line must still score high and a known subheading low."""
    model = default_model()
    assert model is not None
    assert model.probability("办公时间：工作日 8:00-11:30 14:30-17:30", "tail") >= 0.9
    assert model.probability("把演练和课堂结合起来", "mid") < 0.5
    assert features("办公时间", "tail", False) == features("办公时间", "tail", False)


@pytest.mark.parametrize("line", [
    "🔺 本通知已置顶 请各学院研究生秘书及时转发至导师群和研究生班级群",  # (with a comma the pictograph rule knows it)
    "📌 实时路况的查询办法放在文章最后",
])
def test_a_furniture_line_above_the_article_that_no_rule_knows_goes_as_learned(line):
    """(Below the article the trailing sweep already takes every line that does not end a sentence.)"""
    out, removed = clean("\n".join([line, P1, P2, P3]))
    assert out == "\n".join([P1, P2, P3]) and removed == [("learned", line)]


@pytest.mark.parametrize("line", ["把演练和课堂结合起来", "先检查：能修才值得修", "故障响应从40分钟压缩到15分钟", "三、注意事项"])
def test_subheadings_inside_the_article_stay(line):
    text = "\n".join([P1, line, P2, P3])
    assert clean(text)[0] == text


def test_a_line_that_ends_a_sentence_a_notices_signer_and_the_headline_copy_stay():
    # the end of a paragraph broken over two lines, and a closing greeting, end a sentence: never judged
    for end in ("开始搓搓手了！！！", "祝广大旅客新春愉快、旅途平安！"):
        text = "\n".join([P1, P2, P3, end])
        assert clean(text)[0] == text
    # a notice's signer above its date stays (the date line has its own rule)
    text = "\n".join([P1, P2, P3, "梧州市教育局", "2025年3月1日"])
    assert "梧州市教育局" in clean(text)[0]
    # the text's copy of the headline is not judged
    remover = BoilerplateRemover()
    out, _ = remover.explain("\n".join(["市区新增十二条公交线路", P1, P2, P3]), link_pages=True, title="市区新增十二条公交线路")
    assert out.startswith("市区新增十二条公交线路")


def test_threshold_one_or_no_model_switches_the_pass_off_and_text_files_are_not_judged():
    text = "\n".join(["🔺 本通知已置顶 请各学院研究生秘书及时转发至导师群和研究生班级群", P1, P2, P3])
    assert clean(text)[0] != text
    assert clean(text, line_model_threshold=1.0)[0] == text
    assert clean(text, line_model=None)[0] == text
    assert BoilerplateRemover().explain(text, link_pages=False)[0] == text  # a text file or a record: rules only


def test_training_separates_what_it_was_shown_and_a_saved_model_scores_the_same(tmp_path):
    rows = [(f"扫码关注{k}号，每天推送", "tail", False, True) for k in range(12)]
    rows += [(f"第{k}部分：工作进展", "mid", False, False) for k in range(12)]
    model = train(rows, steps=200)
    assert model.probability("扫码关注3号，每天推送", "tail") > 0.8
    assert model.probability("第3部分：工作进展", "mid") < 0.2
    path = tmp_path / "m.npz"
    model.save(path)
    again = LineModel.load(path)
    assert abs(again.probability("扫码关注3号，每天推送", "tail") - model.probability("扫码关注3号，每天推送", "tail")) < 1e-4
