"""Vega-Lite specifications (plain dicts, schema v5) for the charts of the network's pages.

Colours follow NHS identity guidelines and NHS Making Data Count: improvement blue, concern orange,
common-cause grey. Every chart is drawn from a table that the page also shows as text.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from pcn.measures.spc import XmrChart

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
NHS_BLUE = "#005eb8"
NHS_DARK_GREY = "#425563"
MDC_IMPROVEMENT = "#41b6e6"
MDC_CONCERN = "#ed8b00"
MDC_COMMON = "#a6a6a6"
MDC_NEITHER = "#330072"
POSITION_LABELS = {"below_998": "Below 99.8% limit", "below_95": "Below 95% limit",
                   "within": "Within limits", "above_95": "Above 95% limit",
                   "above_998": "Above 99.8% limit"}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows: NaN/NA become null."""
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                clean[str(key)] = None
            elif hasattr(value, "item"):
                clean[str(key)] = value.item()
            else:
                clean[str(key)] = value
        out.append(clean)
    return out


def _base(title: str, description: str) -> dict[str, Any]:
    return {"$schema": SCHEMA, "title": title, "description": description,
            "width": "container", "height": 320,
            "config": {"font": "Arial, sans-serif", "axis": {"labelFontSize": 12,
                                                             "titleFontSize": 13}}}


def funnel_spec(points: pd.DataFrame, curve: pd.DataFrame, *, title: str, value_label: str,
                denominator_label: str) -> dict[str, Any]:
    """Funnel plot: practices as points, 95% and 99.8% limits as lines around the target."""
    # Draw the funnel over the practices' range only: near n = 1 the limits span everything.
    low = 0.5 * float(points["denominator"].min()) if len(points) else 0.0
    curve = curve[curve["denominator"] >= low]
    points = points.assign(position=points["position"].map(POSITION_LABELS).fillna("No data"))
    long = curve.melt(id_vars=["denominator"],
                      value_vars=[c for c in ("lower_998", "lower_95", "target", "upper_95",
                                              "upper_998") if c in curve.columns],
                      var_name="limit", value_name="value")
    names = {"lower_998": "99.8% limit", "upper_998": "99.8% limit", "lower_95": "95% limit",
             "upper_95": "95% limit", "target": "PCN average"}
    long["line"] = long["limit"].map(names)
    long["series"] = long["limit"]
    spec = _base(title, f"Funnel plot of {value_label} against {denominator_label} by practice")
    spec["layer"] = [
        {"data": {"values": _records(long)},
         "mark": {"type": "line", "clip": True},
         "encoding": {
             "x": {"field": "denominator", "type": "quantitative", "title": denominator_label},
             "y": {"field": "value", "type": "quantitative", "title": value_label,
                   "scale": {"zero": False}},
             "detail": {"field": "series"},
             "strokeDash": {"field": "line", "type": "nominal", "title": "Line",
                            "scale": {"domain": ["PCN average", "95% limit", "99.8% limit"],
                                      "range": [[1, 0], [6, 3], [2, 2]]}},
             "color": {"value": NHS_DARK_GREY}}},
        {"data": {"values": _records(points[["org_code", "name", "numerator", "denominator",
                                             "value", "position"]])},
         "mark": {"type": "point", "filled": True, "size": 90},
         "encoding": {
             "x": {"field": "denominator", "type": "quantitative"},
             "y": {"field": "value", "type": "quantitative"},
             "color": {"field": "position", "type": "nominal", "title": "Position",
                       "scale": {"domain": list(POSITION_LABELS.values()),
                                 "range": ["#7c2855", "#ae2573", NHS_BLUE, "#ed8b00", "#da291c"]}},
             "tooltip": [{"field": "name", "title": "Practice"},
                         {"field": "org_code", "title": "Code"},
                         {"field": "numerator", "title": "Numerator", "format": ","},
                         {"field": "denominator", "title": "Denominator", "format": ","},
                         {"field": "value", "title": value_label, "format": ".1f"},
                         {"field": "position", "title": "Position"}]}},
    ]
    return spec


def spc_spec(chart: XmrChart, *, title: str, value_label: str) -> dict[str, Any]:
    """An XmR chart in Making Data Count style: mean, process limits, coloured special causes."""
    points = chart.points.copy()
    points["period"] = points["period"].astype(str)
    points["kind"] = points["point_type"].map({
        "improvement": "Special cause: improvement", "concern": "Special cause: concern",
        "neither": "Special cause", "common_cause": "Common cause"}).fillna("Common cause")
    data = _records(points[["period", "value", "mean", "upper_limit", "lower_limit", "kind"]])
    x = {"field": "period", "type": "ordinal", "title": "Month",
         "axis": {"labelAngle": -45}}
    spec = _base(title, f"Statistical process control (XmR) chart of {value_label} by month")
    spec["data"] = {"values": data}
    spec["layer"] = [
        {"mark": {"type": "line", "color": NHS_DARK_GREY},
         "encoding": {"x": x, "y": {"field": "value", "type": "quantitative",
                                    "title": value_label, "scale": {"zero": False}}}},
        {"mark": {"type": "rule", "color": NHS_DARK_GREY},
         "encoding": {"y": {"field": "mean", "aggregate": "mean", "type": "quantitative"}}},
        {"mark": {"type": "rule", "color": NHS_DARK_GREY, "strokeDash": [6, 3]},
         "encoding": {"y": {"field": "upper_limit", "aggregate": "mean",
                            "type": "quantitative"}}},
        {"mark": {"type": "rule", "color": NHS_DARK_GREY, "strokeDash": [6, 3]},
         "encoding": {"y": {"field": "lower_limit", "aggregate": "mean",
                            "type": "quantitative"}}},
        {"mark": {"type": "point", "filled": True, "size": 70},
         "encoding": {
             "x": x, "y": {"field": "value", "type": "quantitative"},
             "color": {"field": "kind", "type": "nominal", "title": "Variation",
                       "scale": {"domain": ["Common cause", "Special cause: improvement",
                                            "Special cause: concern", "Special cause"],
                                 "range": [MDC_COMMON, MDC_IMPROVEMENT, MDC_CONCERN,
                                           MDC_NEITHER]}},
             "tooltip": [{"field": "period", "title": "Month"},
                         {"field": "value", "title": value_label, "format": ".2f"},
                         {"field": "kind", "title": "Variation"}]}},
    ]
    return spec


def bar_spec(frame: pd.DataFrame, *, category: str, value: str, title: str, value_label: str,
             category_label: str, colour: str = NHS_BLUE) -> dict[str, Any]:
    """A horizontal bar chart of one value per category (hidden values are left out)."""
    shown = frame[frame[value].notna()]
    spec = _base(title, f"Bar chart of {value_label} by {category_label}")
    spec["height"] = max(120, 28 * len(shown))
    spec["data"] = {"values": _records(shown[[category, value]])}
    spec["mark"] = {"type": "bar", "color": colour}
    spec["encoding"] = {
        "y": {"field": category, "type": "nominal", "title": category_label, "sort": None},
        "x": {"field": value, "type": "quantitative", "title": value_label},
        "tooltip": [{"field": category, "title": category_label},
                    {"field": value, "title": value_label, "format": ",.1f"}]}
    return spec


def line_spec(frame: pd.DataFrame, *, x: str, series: dict[str, str], title: str,
              y_label: str) -> dict[str, Any]:
    """Several monthly series on one chart (``series`` maps column to legend label)."""
    long = frame[[x, *series]].melt(id_vars=[x], var_name="series", value_name="value")
    long["series"] = long["series"].map(series)
    long[x] = long[x].astype(str)
    spec = _base(title, f"Line chart of {y_label} by month")
    spec["data"] = {"values": _records(long)}
    spec["mark"] = {"type": "line", "point": True}
    spec["encoding"] = {
        "x": {"field": x, "type": "ordinal", "title": "Month", "axis": {"labelAngle": -45}},
        "y": {"field": "value", "type": "quantitative", "title": y_label},
        "color": {"field": "series", "type": "nominal", "title": "Series",
                  "scale": {"range": [NHS_BLUE, MDC_CONCERN, NHS_DARK_GREY]}},
        "tooltip": [{"field": x, "title": "Month"}, {"field": "series", "title": "Series"},
                    {"field": "value", "title": y_label, "format": ",.1f"}]}
    return spec
