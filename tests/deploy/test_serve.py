"""`gan-core serve --replicas 2`: two app processes behind the bundled nginx config, one address for the class,
sticky by client address, everything stopped with the command."""
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gan_core.serve.replicas import nginx_binary, nginx_config, shares
from tests.helpers import ROOT, free_port


def test_the_config_is_the_bundled_one_with_local_replicas(tmp_path):
    conf = nginx_config((ROOT / "deploy/nginx.conf").read_text(), "0.0.0.0:8501", [9001, 9002, 9003], tmp_path)
    assert conf.count("server 127.0.0.1:900") == 3 and "app1:8501" not in conf
    assert "listen 0.0.0.0:8501;" in conf and "hash $remote_addr consistent;" in conf
    assert f"client_body_temp_path {tmp_path / 'tmp' / 'client_body'};" in conf


def test_machine_wide_caps_are_divided_between_replicas(monkeypatch):
    monkeypatch.delenv("GAN_STUDIO_MAX_JOBS", raising=False)
    monkeypatch.setenv("GAN_STUDIO_MAX_WORK", "3")
    s = shares(2)
    assert s["GAN_STUDIO_MAX_JOBS"] == "1" and s["GAN_STUDIO_MAX_WORK"] == "3"   # the environment wins


def _upstream(port: int, source: str) -> str:
    c = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=10)
    c.request("GET", "/_stcore/health")
    r = c.getresponse()
    assert r.status == 200 and r.read().strip() == b"ok"
    return r.getheader("X-Upstream")


@pytest.mark.browser   # needs Debian's nginx, as the replica test does (CI installs it)
def test_serve_two_replicas_behind_nginx_and_stop_them_all():
    if nginx_binary() is None:
        pytest.fail("nginx is not installed") if os.environ.get("CI") else pytest.skip("nginx is not installed")
    port = free_port()
    exe = Path(sys.executable).parent / "gan-core"
    proc = subprocess.Popen([str(exe), "serve", "--replicas", "2", "--port", str(port), "--host", "127.0.0.1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        end = time.time() + 150
        while not any("Students open http://" in line for line in lines):   # it says so once all are up
            assert proc.poll() is None, "".join(lines)
            assert time.time() < end, "gan-core serve did not start: " + "".join(lines)[-2000:]
            time.sleep(0.5)
        seen = {src: _upstream(port, src) for src in (f"127.0.0.{i}" for i in range(2, 30))}
        assert len(set(seen.values())) == 2                           # both replicas serve the class
        assert all(_upstream(port, src) == up for src, up in list(seen.items())[:5])   # sticky by address
        replicas = {int(up.rsplit(":", 1)[1]) for up in seen.values()}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        reader.join(10)
    assert proc.returncode == 0
    for rp in replicas:                                               # nothing keeps running
        with pytest.raises(OSError):
            http.client.HTTPConnection("127.0.0.1", rp, timeout=2).request("GET", "/_stcore/health")


@pytest.mark.parametrize("argv, says", [(["--replicas", "0"], "between 1 and 16"), (["--replicas", "99"], "between 1 and 16"),
                                        (["--port", "-5"], "--port must be"), (["--port", "99999"], "--port must be"),
                                        (["--host", "::nope"], "not an address")])
def test_bad_serve_arguments_get_one_line_not_a_traceback(argv, says, monkeypatch, capsys):
    import gan_core.serve.replicas

    monkeypatch.setattr(gan_core.serve.replicas, "nginx_binary", lambda: "/usr/sbin/nginx")   # checked after the arguments
    from gan_core.cli.main import main

    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
