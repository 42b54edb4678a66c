"""The address students type or scan to reach the teacher's server: a join link for the quiz and a "watch my
run" link for /train, with a QR code big enough for a projector.

Which address: ``GAN_STUDIO_PUBLIC_URL`` when the teacher set it (a proxy's public name, a tunnel); else the
address the teacher's own browser used (``st.context.url``: behind nginx, the proxy's address), except that
``localhost`` and other loopback names mean nothing on a student's machine and are replaced by this machine's
address on the local network."""
from __future__ import annotations

import io
import ipaddress
import os
import socket
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st


def lan_address() -> str | None:
    """This machine's address on the local network: the source address of the route out (a UDP socket's
    connect sends nothing). None without a network."""
    for probe in ("10.255.255.255", "192.168.255.255"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 1))
                ip = s.getsockname()[0]
        except OSError:
            continue
        if ip and not ipaddress.ip_address(ip).is_loopback and ip != "0.0.0.0":
            return ip
    return None


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def public_url(browser_url: str | None, path: str, query: dict | None = None,
               lan: str | None = None, configured: str | None = None) -> tuple[str | None, str]:
    """(url, note) for ``path`` (a page's url path) on this server, as a student would reach it.

    ``browser_url``: what the teacher's browser shows (st.context.url); ``configured``: GAN_STUDIO_PUBLIC_URL;
    ``lan``: this machine's LAN address. The note says where the address came from, or why there is none."""
    q = ("?" + urlencode(query)) if query else ""
    if configured:
        base = configured.rstrip("/")
        return f"{base}/{path}{q}", "the address set in GAN_STUDIO_PUBLIC_URL"
    if not browser_url:
        return None, "the server does not know the address your browser used"
    parts = urlsplit(browser_url)
    host = parts.hostname or ""
    netloc, note = parts.netloc, "the address your browser uses"
    if _is_loopback(host):
        if lan is None:
            return None, ("this machine has no local-network address; connect it to the class's network, or "
                          "set GAN_STUDIO_PUBLIC_URL")
        netloc = f"{lan}:{parts.port}" if parts.port else lan
        note = "this machine's address on the local network (students must be on the same network)"
    prefix = parts.path.rstrip("/")
    # the page's own path is at the end of the teacher's URL: keep what comes before it (a proxy's prefix)
    for known in ("quiz", "train"):
        if prefix.endswith("/" + known):
            prefix = prefix[: -len(known) - 1]
    return urlunsplit((parts.scheme or "http", netloc, f"{prefix}/{path}", "", "")) + q, note


def qr_png(text: str, scale: int = 10) -> bytes:
    """A QR code of ``text`` as PNG (segno), with a white border, sized for a projector."""
    import segno

    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def join_panel(path: str, query: dict | None, title: str, width: int = 320) -> str | None:
    """The link and its QR code; returns the link (None when there is no address students could use)."""
    try:
        browser = st.context.url
    except Exception:
        browser = None
    url, note = public_url(browser, path, query, lan=lan_address(),
                           configured=os.environ.get("GAN_STUDIO_PUBLIC_URL", "").strip() or None)
    if url is None:
        st.info(f"{title}: no address to show, because {note}.")
        return None
    st.markdown(f"**{title}**")
    st.code(url, language=None)
    st.image(qr_png(url), width=width, caption=f"Scan to open. The address is {note}.", output_format="PNG")
    return url
