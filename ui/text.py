"""Every string that comes from a user (a shared link's query parameters, an uploaded file's name, an arm name,
a nickname, a message quoting any of these) is shown through this module, so it is always plain text:
markdown, Streamlit's own directives (``:red[...]``, ``:material/x:``), LaTeX ``$...$`` and HTML cannot be
injected. ``[Your session expired: sign in](http://evil)`` in ``?model=`` renders as those characters, not a
link."""
from __future__ import annotations

import html
import re

# What makes markdown out of text: emphasis and code (* _ `), links and images ([ ]), HTML (< >), tables (|),
# strike-through (~), LaTeX ($), Streamlit's directives and bare-URL autolinks (:), and escapes themselves.
_SPECIAL = set("\\`*_[]<>|~$:")
_AUTOLINK = re.compile(r"(?i)\b(?:https?|ftp|mailto|www)(?=[\\:.])|@")
ZWSP = "\u200b"
_LEADING = re.compile(r"^(\d+)([.)])|^([#+\-=])")   # a heading or list marker where the text starts


def plain(text: object, limit: int | None = None, leading: bool = True) -> str:
    """``text`` escaped for st.markdown / st.warning / st.error / captions and labels that take markdown:
    every markdown-significant character backslash-escaped, line breaks flattened, cut to ``limit``."""
    s = " ".join(str(text).split())
    if limit is not None and len(s) > limit:
        s = s[:limit] + "…"
    s = "".join("\\" + ch if ch in _SPECIAL else ch for ch in s)
    # GitHub-style autolinks turn bare URLs and e-mail addresses into links even with ":" escaped (seen in
    # Chromium): a zero-width space after the scheme, "www" and "@" breaks them and shows the same text
    s = _AUTOLINK.sub(lambda m: m.group(0) + ZWSP, s)
    if not leading:  # the text follows other text (a quote mark): no heading or list can start in it
        return s
    return _LEADING.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", s)


def unescaped(text: str) -> str:
    """What ``plain`` text reads as once rendered (for tests and logs)."""
    return re.sub(r"\\(.)", r"\1", text).replace(ZWSP, "")


def quoted(text: object, limit: int = 60) -> str:
    """``plain`` inside typographic quotes, for naming a user's value in a sentence."""
    return f"“{plain(text, limit, leading=False)}”"


def html_text(text: object, limit: int | None = None) -> str:
    """``text`` for an HTML document or unsafe_allow_html markdown: entities escaped, quotes included."""
    s = str(text)
    if limit is not None and len(s) > limit:
        s = s[:limit] + "…"
    return html.escape(s, quote=True)


def count(n: int, word: str, plural: str | None = None) -> str:
    """'1 participant', '2 participants', '0 answers' (thousands separated)."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"
