"""The join link a teacher shows: the address students can reach, never localhost."""
import io

from PIL import Image

from ui.joinlink import public_url, qr_png


def test_a_loopback_address_becomes_the_machines_lan_address():
    url, note = public_url("http://localhost:8501/quiz", "quiz", {"code": "K7QX2M"}, lan="192.168.1.20")
    assert url == "http://192.168.1.20:8501/quiz?code=K7QX2M"
    assert "local network" in note
    url, _ = public_url("http://127.0.0.1:8501/train", "train", {"run": "ab" * 8}, lan="10.0.0.5")
    assert url == "http://10.0.0.5:8501/train?run=" + "ab" * 8


def test_the_address_the_teacher_used_is_kept_with_a_proxy_prefix():
    url, _ = public_url("https://gan.school.example/studio/quiz", "quiz", {"code": "ABC123"}, lan="10.0.0.5")
    assert url == "https://gan.school.example/studio/quiz?code=ABC123"
    url, _ = public_url("http://192.168.1.20:8501/", "quiz", None, lan=None)
    assert url == "http://192.168.1.20:8501/quiz"


def test_configured_url_wins_and_no_network_says_why():
    url, note = public_url("http://localhost:8501/quiz", "quiz", {"code": "X"}, lan="10.0.0.5",
                           configured="https://tunnel.example/")
    assert url == "https://tunnel.example/quiz?code=X" and "GAN_STUDIO_PUBLIC_URL" in note
    url, note = public_url("http://localhost:8501/quiz", "quiz", None, lan=None)
    assert url is None and "GAN_STUDIO_PUBLIC_URL" in note
    assert public_url(None, "quiz", None, lan="10.0.0.5")[0] is None


def test_qr_code_is_a_png_large_enough_for_a_projector():
    img = Image.open(io.BytesIO(qr_png("http://192.168.1.20:8501/quiz?code=K7QX2M")))
    assert img.format == "PNG" and img.size[0] == img.size[1] >= 250
    assert qr_png("a") != qr_png("b")
