"""The project's one Chinese sentence splitter."""

from builder.text.sentences import sentence_spans, split_sentences


def test_quotes_stay_whole_and_closing_marks_stay_attached():
    text = "他说：“今天不下雨。明天再说！”随后离开。真的吗？！  结尾没有标点"
    assert split_sentences(text) == ["他说：“今天不下雨。明天再说！”随后离开。", "真的吗？！", "结尾没有标点"]


def test_ellipsis_and_newlines_end_sentences():
    assert split_sentences("等待……终于来了。\n第二段没有句号\n") == ["等待……", "终于来了。", "第二段没有句号"]


def test_spans_are_offsets_into_the_text():
    text = "  第一句。 第二句！"
    assert [text[a:b] for a, b in sentence_spans(text)] == ["第一句。", "第二句！"]
    assert sentence_spans(text)[0] == (2, 6)
