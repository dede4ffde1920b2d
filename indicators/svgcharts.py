"""Charts drawn on the server as SVG, for outputs that run no JavaScript (the annual report's PDF).

They draw a :class:`indicators.reporting.Report`'s published cells and nothing else: a bar's length is the
protected value, and a hidden value (``"<k"``, value ``None``) is drawn as a hatched band over the range it may
hold (1 to k-1, which every page states), labelled with its display, never as a bar of 0. Every text is
escaped: labels come from code lists an admin edits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import SafeString, mark_safe

from .reporting import Report

WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 56
BAR_HEIGHT = 16
GAP = 6
TOP = 6
FONT_SIZE = 10
BAR_COLOUR = "#1d3f73"
HIDDEN_COLOUR = "#8a9199"
LABEL_CHARS = 38


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | None  # None: hidden (drawn as the band 1 to k-1)
    display: str


def report_bars(report: Report) -> list[Bar]:
    """The bars of a report as its page draws them: one per row of a one-way table (series), one per column of
    a table of one row (the overview's measures of one year); [] for other shapes, whose table stands alone."""
    table = report.table
    if report.extra.get("chart") == "none":  # the page shows this table without a chart
        return []
    if report.is_series:
        return [
            Bar(report.row_label(key), row[0].value, row[0].display)
            for key, row in zip(table.row_keys, table.cells, strict=True)
        ]
    if len(table.row_keys) == 1:
        # The overview charts only some of its measures (``chart_columns``), as its page does.
        charted = report.extra.get("chart_columns") or table.col_keys
        return [
            Bar(report.col_label(key), cell.value, cell.display)
            for key, cell in zip(table.col_keys, table.cells[0], strict=True)
            if key in charted
        ]
    return []


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def horizontal_bars(bars: Sequence[Bar], *, k: int, chart_id: str, title: str) -> SafeString:
    """An SVG horizontal bar chart of ``bars``. ``k`` bounds a hidden value (it lies in 1 to k-1), so the
    hatched band of a hidden value reaches k-1 on the chart's scale; ``chart_id`` keeps the hatch pattern's id
    unique among the charts of one document."""
    if not bars:
        return mark_safe("")
    hidden_reach = k - 1 if any(b.value is None for b in bars) else 0
    largest = max([b.value for b in bars if b.value is not None] + [hidden_reach])
    scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / largest if largest else 0.0
    height = TOP * 2 + len(bars) * (BAR_HEIGHT + GAP)
    pattern = f"hatch-{chart_id}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        f'<defs><pattern id="{escape(pattern)}" patternUnits="userSpaceOnUse" width="6" height="6" '
        f'patternTransform="rotate(45)"><rect width="3" height="6" fill="{HIDDEN_COLOUR}"/></pattern></defs>',
    ]
    for i, bar in enumerate(bars):
        y = TOP + i * (BAR_HEIGHT + GAP)
        text_y = y + BAR_HEIGHT / 2 + FONT_SIZE * 0.35
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{text_y:.1f}" font-size="{FONT_SIZE}" text-anchor="end" '
            f'fill="#212529">{escape(_short(bar.label))}</text>'
        )
        if bar.value is None:
            length = max((k - 1) * scale, 2.0)
            parts.append(
                f'<rect class="hidden-value" x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                f'fill="url(#{escape(pattern)})" stroke="{HIDDEN_COLOUR}" stroke-width="0.8"/>'
            )
            fill, weight = HIDDEN_COLOUR, "normal"
        else:
            length = bar.value * scale
            if length:
                parts.append(
                    f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{BAR_COLOUR}"/>'
                )
            fill, weight = "#212529", "bold"
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{text_y:.1f}" font-size="{FONT_SIZE}" '
            f'font-weight="{weight}" fill="{fill}">{escape(bar.display)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def hidden_swatch(swatch_id: str) -> SafeString:
    """The legend's sample of the hatch that marks a hidden value (``swatch_id`` unique in the document)."""
    return mark_safe(  # noqa: S308 - constant markup
        '<svg xmlns="http://www.w3.org/2000/svg" class="swatch" viewBox="0 0 18 10" width="18" height="10">'
        f'<defs><pattern id="swatch-{escape(swatch_id)}" patternUnits="userSpaceOnUse" width="6" height="6" '
        f'patternTransform="rotate(45)"><rect width="3" height="6" fill="{HIDDEN_COLOUR}"/></pattern></defs>'
        f'<rect x="0.5" y="0.5" width="17" height="9" fill="url(#swatch-{escape(swatch_id)})" '
        f'stroke="{HIDDEN_COLOUR}"/></svg>'
    )
