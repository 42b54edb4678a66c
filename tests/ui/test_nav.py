"""The app's icons are Material symbols, which Streamlit draws from its own bundled font: emoji render as empty
boxes on machines with no emoji font (headless Debian, many lab machines)."""
import re
from pathlib import Path

from ui.nav import PAGES

ROOT = Path(__file__).resolve().parents[2]
EMOJI = re.compile("[\u23E9-\u23FA\u21BA\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")


def test_every_page_icon_is_a_material_symbol():
    for p in PAGES:
        assert re.fullmatch(r":material/[a-z0-9_]+:", p.icon), p


def test_no_emoji_in_the_app_text():
    files = [ROOT / "streamlit_app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "app_pages").glob("*.py")]
    found = [f"{f.name}:{i}" for f in files for i, line in enumerate(f.read_text().splitlines(), 1)
             if EMOJI.search(line)]
    assert not found, found
