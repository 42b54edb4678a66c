"""Colours and marker shapes for the ten digit classes, the same on every chart.

Streamlit's chart theme colours categories in light/dark pairs (blue, light blue, red, light red, ...), so 0 and
1, 2 and 3, 4 and 5 looked alike on the latent map. These are ten hues that stay apart (the Tableau 10 set),
and each class has its own marker shape too, for readers who do not tell colours apart."""
from __future__ import annotations

DIGIT_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#2f2f2f"]
DIGIT_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross",
                 "x", "triangle-down", "star", "pentagon", "hexagram"]


def digit_color_map(n: int = 10) -> dict[str, str]:
    """{"0": colour, ...} for plotly express's ``color_discrete_map`` (classes beyond ten reuse the colours)."""
    return {str(i): DIGIT_COLORS[i % len(DIGIT_COLORS)] for i in range(n)}


def digit_symbol_map(n: int = 10) -> dict[str, str]:
    return {str(i): DIGIT_SYMBOLS[i % len(DIGIT_SYMBOLS)] for i in range(n)}
