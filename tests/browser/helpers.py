"""What the browser tests share: waiting for a page, reading its metrics and images, drawing a stroke,
opening the quiz with its websocket frames recorded."""


def wait_ready(page):
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


def main_image_src(page):
    return page.locator("[data-testid='gs-image'] img").nth(0).get_attribute("src")


def plotly_array(value):
    """A plotly trace array as sent to the browser: a list, or plotly 6's typed array {dtype, bdata, shape}."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return a.reshape([int(n) for n in str(shape).split(",")]) if shape else a
    return np.asarray(value)


def metric(page, label):
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def step(page) -> int:
    return int(metric(page, "Step").replace(",", ""))


def stroke(page, box, points):
    """Press, drag through points (fractions of the canvas), release: one stroke as a hand would draw it."""
    x0, y0 = box["x"], box["y"]
    px = [(x0 + fx * box["width"], y0 + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*px[0])
    page.mouse.down()
    for a, b in zip(px, px[1:]):
        page.mouse.move(*b, steps=8)
    page.mouse.up()


SECRETS = (b"real_side", b"is_real", b"fake_seed", b"real_index", b"correct_choice", b"quiz_token")


def open_quiz(browser, app_server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(
        f if isinstance(f, bytes) else f.encode())))
    page.goto(app_server + "/quiz", wait_until="domcontentloaded")
    page.get_by_text("I am").wait_for(timeout=120_000)
    wait_ready(page)
    return ctx, page, frames
