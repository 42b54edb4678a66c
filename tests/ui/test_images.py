import base64
import io
import re

import numpy as np
from PIL import Image

from ui.images import inline_html


def test_inline_html_carries_the_exact_pixels_and_asks_for_crisp_enlargement():
    img = np.random.default_rng(0).integers(0, 256, (28, 28, 1), dtype=np.uint8)
    html = inline_html(img, scale=12, caption="seed 3 <b>", alt='a "digit"')
    src = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(src))))
    assert decoded.shape == (28, 28) and (decoded == img[:, :, 0]).all()  # the small image, not an upscaled copy
    assert 'width="336"' in html and "image-rendering:pixelated" in html
    assert "seed 3 &lt;b&gt;" in html and 'alt="a &quot;digit&quot;"' in html  # text is escaped
    assert 'data-testid="gs-image"' in html


def test_inline_html_without_caption_and_in_colour():
    img = np.zeros((4, 6, 3), np.uint8)
    img[..., 0] = 255
    html = inline_html(img, scale=2)
    assert "figcaption" not in html and 'width="12" height="8"' in html
    src = re.search(r'base64,([^"]+)"', html).group(1)
    assert Image.open(io.BytesIO(base64.b64decode(src))).getpixel((0, 0)) == (255, 0, 0)
