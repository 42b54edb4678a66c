"""The app's pages and their fixed URL paths, in one place for the router and for cross-links."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    path: str        # file relative to the repository root
    title: str
    icon: str
    url_path: str    # fixed: links shared by teachers must keep working
    default: bool = False


PAGES = [
    PageInfo("app_pages/home.py", "Home", ":material/home:", "", default=True),
    PageInfo("app_pages/train.py", "Train", ":material/model_training:", "train"),
    PageInfo("app_pages/playground.py", "Playground", ":material/scatter_plot:", "playground"),
    PageInfo("app_pages/latent.py", "Latent explorer", ":material/explore:", "latent"),
    PageInfo("app_pages/inside.py", "Inside G", ":material/biotech:", "inside"),
    PageInfo("app_pages/conditional.py", "Conditional", ":material/pin:", "conditional"),
    PageInfo("app_pages/quiz.py", "Quiz", ":material/quiz:", "quiz"),
    PageInfo("app_pages/evaluate.py", "Evaluate", ":material/straighten:", "evaluate"),
]


def page(url_path: str) -> PageInfo:
    for p in PAGES:
        if p.url_path == url_path:
            return p
    raise KeyError(url_path)


def link(url_path: str, label: str, query: dict | None = None) -> None:
    """A link to another page of the app, with optional query parameters."""
    import streamlit as st

    from streamlit.errors import StreamlitAPIException

    p = page(url_path)
    try:
        st.page_link(p.path, label=label, icon=p.icon, query_params=query)
    except StreamlitAPIException:  # page run on its own, outside the router (tests, `streamlit run app_pages/...`)
        from urllib.parse import urlencode

        st.markdown(f"{p.icon} [{label}](/{p.url_path}{'?' + urlencode(query) if query else ''})")
