"""The app's pages and their fixed URL paths, in one place for the router and for cross-links."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageInfo:
    path: str        # file relative to the repository root
    title: str
    icon: str
    url_path: str    # fixed: links shared by teachers must keep working
    default: bool = False

    def available(self) -> bool:
        return (ROOT / self.path).is_file()


PAGES = [
    PageInfo("pages/home.py", "Home", "🏠", "", default=True),
    PageInfo("pages/train.py", "Train", "🏋️", "train"),
    PageInfo("pages/playground.py", "Playground", "🎯", "playground"),
    PageInfo("pages/latent.py", "Latent explorer", "🧭", "latent"),
    PageInfo("pages/conditional.py", "Conditional", "🔢", "conditional"),
    PageInfo("pages/quiz.py", "Quiz", "🕵️", "quiz"),
    PageInfo("pages/evaluate.py", "Evaluate", "📏", "evaluate"),
]


def page(url_path: str) -> PageInfo:
    for p in PAGES:
        if p.url_path == url_path:
            return p
    raise KeyError(url_path)


def link(url_path: str, label: str) -> None:
    """A link to another page when that page exists; plain text saying it is coming otherwise."""
    import streamlit as st

    p = page(url_path)
    if p.available():
        st.page_link(p.path, label=label, icon=p.icon)
    else:
        st.markdown(f"{p.icon} {label} — *the {p.title} page is not built yet*")
