import pytest

pytestmark = pytest.mark.browser


def test_home_page_renders_without_exception(app_server, page):
    page.goto(app_server + "/", wait_until="domcontentloaded")
    page.get_by_text("The game", exact=True).wait_for(timeout=60_000)
    # KaTeX has rendered the value function
    page.locator(".katex").first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert "GAN Studio" in page.content()
