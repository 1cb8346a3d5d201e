"""Server-made SVG charts: well-formed, titled and described, one labelled bar per value, and the
bars' heights in proportion to the values."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from onethread.web.charts import Bar, _ticks, bar_chart

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def bars(root) -> list[ET.Element]:
    return root.findall("svg:g[@class='bar']", NS)


def test_a_chart_is_titled_described_and_names_every_bar_with_its_value():
    svg = parse(bar_chart("Open cases by age", "How old they are.", [Bar("< 1 day", 3), Bar("1-3 days", 1),
                                                                     Bar("3-7 days", 0)]))
    assert svg.get("role") == "img"
    labelled = svg.get("aria-labelledby").split()
    assert svg.find("svg:title", NS).get("id") == labelled[0]
    assert svg.find("svg:title", NS).text == "Open cases by age"
    assert svg.find("svg:desc", NS).text == "How old they are. Total: 4 cases."
    found = [(b.find("svg:title", NS).text, [t.text for t in b.findall("svg:text", NS)]) for b in bars(svg)]
    assert found == [("< 1 day: 3 cases", ["3", "< 1 day"]), ("1-3 days: 1 case", ["1", "1-3 days"]),
                     ("3-7 days: 0 cases", ["0", "3-7 days"])]
    assert "<script" not in str(bar_chart("x", "y", [Bar("a", 1)]))


def test_bar_heights_are_in_proportion_and_the_scale_covers_the_tallest():
    svg = parse(bar_chart("t", "d", [Bar("a", 2), Bar("b", 4), Bar("c", 0), Bar("d", 7)]))
    heights = [float(b.find("svg:rect", NS).get("height")) for b in bars(svg)]
    assert heights[2] == 0
    assert heights[1] == pytest.approx(2 * heights[0], abs=0.2)
    assert heights[3] == pytest.approx(3.5 * heights[0], abs=0.2)
    gridlines = [int(g.find("svg:text", NS).text) for g in svg.findall("svg:g[@class='grid']", NS)]
    assert gridlines[0] == 0 and gridlines[-1] >= 7


def test_text_is_escaped_and_units_are_the_callers():
    svg = parse(bar_chart("A <b> & 'c'", "d", [Bar("W<1>", 1), Bar("W2", 2)],
                          unit=("clock breached", "clocks breached")))
    assert svg.find("svg:title", NS).text == "A <b> & 'c'"
    assert [b.find("svg:title", NS).text for b in bars(svg)] == ["W<1>: 1 clock breached", "W2: 2 clocks breached"]
    assert svg.find("svg:desc", NS).text.endswith("Total: 3 clocks breached.")


def test_an_empty_chart_says_so_and_negative_counts_are_refused():
    svg = parse(bar_chart("Nothing", "d", []))
    assert bars(svg) == [] and "Nothing to show" in "".join(svg.itertext())
    assert parse(bar_chart("Zeros", "d", [Bar("a", 0)])).find("svg:g[@class='bar']", NS) is not None
    with pytest.raises(ValueError):
        bar_chart("t", "d", [Bar("a", -1)])


@pytest.mark.parametrize("top", [0, 1, 4, 5, 6, 9, 11, 24, 26, 99, 101, 999, 12_345])
def test_gridlines_are_round_few_and_reach_the_top(top):
    ticks = _ticks(top)
    assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) <= 6
    step = ticks[1] - ticks[0]
    assert all(b - a == step for a, b in pairwise(ticks))
    assert str(step).rstrip("0") in ("1", "2", "5")


def test_a_short_label_is_written_under_the_bar_and_the_full_one_said_in_its_title():
    svg = parse(bar_chart("t", "d", [Bar("2026-W10", 2, short="W10")]))
    bar = bars(svg)[0]
    assert bar.find("svg:title", NS).text == "2026-W10: 2 cases"
    assert bar.find("svg:text[@class='label']", NS).text == "W10"
