"""Lists the campaigns pages export as xlsx."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shebao.campaigns.selectors import FIGURE_COLUMNS, GROUPINGS, Figures
from shebao.core.exporters import ListExporter


class CardProgressExporter(ListExporter):
    """社保卡发放进度: one line per outlet, unit or township, then the total."""

    title = "社保卡发放进度"
    sheet_name = "发放进度"

    def __init__(self, figures: Figures):
        self.figures = figures

    def headers(self) -> Sequence[str]:
        labels = dict(FIGURE_COLUMNS)
        labels["waiting"] = f"待领超过{self.figures.wait_days}天"
        return [GROUPINGS[self.figures.grouping], *(labels[m] for m, _ in FIGURE_COLUMNS)]

    def rows(self) -> Iterable[Sequence[Any]]:
        for row in self.figures.rows:
            yield [row["name"], *(row[m] for m, _ in FIGURE_COLUMNS)]
        yield ["合计", *(self.figures.total.get(m, 0) for m, _ in FIGURE_COLUMNS)]

    def column_widths(self) -> Sequence[int] | None:
        return [30, *([14] * len(FIGURE_COLUMNS))]
