"""The demo mark: what every output of a demo project says, so that it is never taken for real data.

A base module of its own (no imports) because the store, the analyses, every export, the print layouts and
the UI all write it; the text stays Chinese in every UI language.

>>> demo_title("会宁县企业清单", True)
'会宁县企业清单（示例数据）'
>>> demo_title("会宁县企业清单（示例数据）", True), demo_title("真实项目", False)
('会宁县企业清单（示例数据）', '真实项目')
"""

DEMO_MARK = "示例数据"
DEMO_NOTE = "示例数据：本文件内容为虚构示例，不代表任何真实地点或企业的风险评估结论。"
DEMO_NOTE_EN = "Demo data: fictitious content, not an assessment of any real place or company."


def demo_title(title: str, demo: bool) -> str:
    """``title`` with （示例数据） added on a demo project (once)."""
    return f"{title}（{DEMO_MARK}）" if demo and DEMO_MARK not in title else title
