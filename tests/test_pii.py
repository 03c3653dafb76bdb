"""PII: maintained validators (phonenumbers, python-stdnum), emails bounded by ASCII, QQ/WeChat in context,
each kind counted, and a push-time scan that does not share the masking patterns."""

from __future__ import annotations

import pytest

from builder.text import pii


@pytest.mark.parametrize("text,kind,masked", [
    ("发送邮件至zhengwu@example.cn申请加入", "email", "发送邮件至[邮箱]申请加入"),
    ("请致电0838-1234567或(010)62675637咨询", "landline", "请致电[电话]或[电话]咨询"),
    ("联系人手机13812345678，", "phone", "联系人手机[手机号]，"),
    ("退款请打到6222021234567890128，谢谢", "bank_card", "退款请打到[银行卡号]，谢谢"),
    ("卡号 6222 0212 3456 7890 128 已冻结", "bank_card", "卡号 [银行卡号] 已冻结"),
    ("身份证号11010519491231002X。", "id_number", "身份证号[身份证号]。"),
    ("有事加QQ：12345678或QQ群98765432", "qq", "有事加QQ：[QQ号]或QQ群[QQ号]"),
    ("商务合作请加微信号：wxid_abc123，备注来意", "wechat", "商务合作请加微信号：[微信号]，备注来意"),
    ("加V信 zhang_san88 领取资料", "wechat", "加V信 [微信号] 领取资料"),
])
def test_each_kind_is_masked_in_chinese_context_and_counted(text, kind, masked):
    out, counts = pii.mask(text)
    assert out == masked and counts[kind] >= 1
    assert pii.scan(out) == {}


@pytest.mark.parametrize("text", [
    "订单号1381234567890已发货",           # 13 digits: not a phone
    "市民热线12345、报警电话110",           # short service numbers
    "面积6222021234567890123平方米",        # fails the Luhn check: not a card
    "微信公众号和QQ音乐都更新了",            # labels without an account
    "使用 wxWidgets 和 WeChat account 开发",  # English words after the labels
    "2019年GDP增长6.1%，总量990865亿元",
])
def test_numbers_and_words_that_are_not_pii_are_left(text):
    out, counts = pii.mask(text)
    assert out == text and counts == {}


def test_id_numbers_with_a_wrong_check_digit_are_masked_but_counted_apart():
    out, counts = pii.mask("身份证330106199003074218与330106199003074219")
    assert out == "身份证[身份证号]与[身份证号]"
    assert counts == {"id_number": 2, "id_number_checked": 1}


def test_push_scan_finds_what_masking_missed_by_its_own_detection(monkeypatch):
    text = "电话 138-1234-5678，邮箱 a.b@example.com，卡 6222021234567890128，证 11010519491231002X"
    assert set(pii.scan(text)) == {"phone", "email", "bank_card", "id_number"}
    # a masking rule that breaks (here: the email pattern) does not blind the scan
    monkeypatch.setattr(pii, "EMAIL", __import__("re").compile(r"(?!x)x"))
    out, counts = pii.mask(text)
    assert "email" not in counts and pii.scan(out) == {"email": ["a.b@example.com"]}


def test_push_scan_finds_accounts_and_ids_without_the_masking_patterns(monkeypatch):
    import re

    text = "有问题加我QQ同号 12345678，或者微信同号 lanjiang_88，身份证 110105194912310021"  # check digit wrong on purpose
    for name in ("QQ", "WECHAT", "ID_NUMBER"):  # masking's patterns broken: the scan does not use them
        monkeypatch.setattr(pii, name, re.compile(r"(?!x)x"))
    found = pii.scan(text)
    assert found["qq"] == ["12345678"] and found["wechat"] == ["lanjiang_88"] and found["id_number"] == ["110105194912310021"]
    assert pii.scan("QQ音乐的会员价格下调，微信支付也有活动。") == {}
