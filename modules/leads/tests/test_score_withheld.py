"""The score breakdown never speaks of a field the caller cannot read in clear."""
from modules.leads.scoring import readable_parts


class Perms:
    def __init__(self, levels):
        self.levels = levels

    def level(self, name):
        return self.levels.get(name, "read")


BREAKDOWN = [
    {"rule": "b", "kind": "budget", "points": 20, "detail": "预算 / budget 800000.00"},
    {"rule": "s", "kind": "source", "points": 10, "detail": "来源 / source: 展会"},
    {"rule": "f", "kind": "field", "points": 5, "detail": "已填写 / filled: need"},
    {"rule": "r", "kind": "recency", "points": 5, "detail": "7 天内有跟进 / touched within 7 days"},
]


def test_hidden_and_masked_fields_are_withheld():
    parts, withheld = readable_parts(BREAKDOWN, Perms({"budget": "hidden", "need": "masked"}))
    assert [p["rule"] for p in parts] == ["s", "r"]
    assert withheld == 2
    assert "800000" not in repr(parts)


def test_everything_shown_when_readable():
    parts, withheld = readable_parts(BREAKDOWN, Perms({}))
    assert parts == BREAKDOWN and withheld == 0
