"""`gan-core serve --replicas N`: a class on one machine, with every core for it.

One Streamlit process runs its pages' Python on one core. With ``--replicas 2`` this starts two app processes on
local ports behind nginx (the project's own, tested ``deploy/nginx.conf``: sticky sessions by client address, a
dead replica's browsers sent to the other), all on one quiz database (the default SQLite file in WAL mode, or
``GAN_STUDIO_QUIZ_DB``), and prints the one address students open. The machine-wide caps are divided between
the replicas (training jobs, heavy-work workers, playground slots), unless set by the environment.

Run it from a checkout (the app's pages and ``deploy/`` live there). Needs nginx for N >= 2
(``apt install nginx``, ``brew install nginx``). Stop it with Ctrl-C: every process it started stops too.

Example:
    gan-core serve --replicas 2 --port 8501
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


class ServeError(ValueError):
    """The class server cannot start; the message says what to do."""


def app_dir() -> Path:
    """The checkout that holds streamlit_app.py (this package's parent folder, else the current folder)."""
    for cand in (Path(__file__).resolve().parent.parent, Path.cwd()):
        if (cand / "streamlit_app.py").is_file():
            return cand
    raise ServeError("streamlit_app.py was not found: run gan-core serve from a GAN Studio checkout.")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx",
                                                      "/opt/homebrew/bin/nginx") if Path(p).exists()), None)


def nginx_config(template: str, listen: str, ports: list[int], prefix: Path) -> str:
    """deploy/nginx.conf with its upstream servers replaced by the local replicas and its listen address set;
    temporary files inside ``prefix``."""
    lines, done = [], False
    for line in template.splitlines():
        stripped = line.strip()
        if stripped.startswith("server ") and ":8501" in stripped:
            if not done:
                indent = line[: len(line) - len(line.lstrip())]
                lines += [f"{indent}server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports]
                done = True
            continue
        if stripped.startswith("listen "):
            line = line.replace(stripped, f"listen {listen};")
        lines.append(line)
        if stripped.startswith("http {"):
            for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                lines.append(f"    {d}_temp_path {prefix / 'tmp' / d};")
    if not done:
        raise ServeError("deploy/nginx.conf has no upstream servers to replace.")
    return "\n".join(lines) + "\n"


def _free(host: str, port: int) -> bool:
    return _bind_error(host, port) is None


def _bind_error(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on now (in use, not this machine's address), or None."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError, OverflowError) as e:
        return f"{host!r} is not an address of this machine ({e})"
    with socket.socket(family) as s:
        try:
            s.bind((host, port))
            return None
        except OSError as e:
            return f"port {port} is in use" if e.errno == 98 else f"cannot listen on {host}:{port} ({e.strerror})"


def _healthy(url: str, procs: list, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if any(p.poll() is not None for p in procs):
            raise ServeError("a process of the class server exited while starting; see its output above.")
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().strip() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise ServeError(f"{url} did not answer within {timeout:.0f} s.")


def shares(replicas: int) -> dict[str, str]:
    """Each replica's part of the machine-wide caps (the environment's own values win)."""
    cores = os.cpu_count() or 2
    want = {"GAN_STUDIO_MAX_JOBS": max(1, -(-2 // replicas)),
            "GAN_STUDIO_MAX_WORK": max(1, (cores - 1) // replicas),
            "GAN_STUDIO_MAX_PLAYGROUNDS": max(1, (cores - 1) // replicas)}
    return {k: os.environ.get(k, str(v)) for k, v in want.items()}


def serve(replicas: int = 2, port: int = 8501, host: str = "0.0.0.0") -> int:
    """Start the class server and wait until Ctrl-C (or SIGTERM); returns the exit code."""
    if not 1 <= replicas <= 16:
        raise ServeError("--replicas must be between 1 and 16.")
    if not 1 <= port <= 65535 - replicas:
        raise ServeError(f"--port must be between 1 and {65535 - replicas}.")
    root = app_dir()
    exe = shutil.which("streamlit", path=str(Path(sys.executable).parent)) or "streamlit"
    if replicas == 1:
        return subprocess.call([exe, "run", "streamlit_app.py", "--server.port", str(port), "--server.address",
                                host], cwd=root)
    nginx = nginx_binary()
    if nginx is None:
        raise ServeError("--replicas needs nginx in front of the app processes: install it (apt install nginx, "
                         "brew install nginx), or serve one process with `make run`.")
    why = _bind_error(host, port)
    if why is not None:
        raise ServeError(f"{why}; choose another with --port or --host.")
    ports, p = [], port + 1
    while len(ports) < replicas:
        if _free("127.0.0.1", p):
            ports.append(p)
        p += 1
    prefix = Path(tempfile.mkdtemp(prefix="gan_studio_nginx_"))
    os.chmod(prefix, 0o755)
    for d in ("logs", "tmp"):
        (prefix / d).mkdir(mode=0o777)
        os.chmod(prefix / d, 0o777)   # nginx's workers may run as another user when started by root
    env = {**os.environ, **shares(replicas)}
    procs: list[subprocess.Popen] = []

    def stop(*_):
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(prefix, ignore_errors=True)

    def interrupted(*_):
        raise KeyboardInterrupt()

    old = signal.signal(signal.SIGTERM, interrupted)
    try:
        for rp in ports:  # the replicas listen on this machine only: students come through nginx
            procs.append(subprocess.Popen([exe, "run", "streamlit_app.py", "--server.port", str(rp),
                                           "--server.address", "127.0.0.1", "--server.headless", "true"],
                                          cwd=root, env=env))
        for rp in ports:
            _healthy(f"http://127.0.0.1:{rp}", procs)
        conf = nginx_config((root / "deploy" / "nginx.conf").read_text(), f"{host}:{port}", ports, prefix)
        (prefix / "nginx.conf").write_text(conf)
        procs.append(subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g",
                                       f"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log;"]))
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        _healthy(f"http://{'127.0.0.1' if shown == 'localhost' else shown}:{port}", procs)
        print(f"GAN Studio for a class: {replicas} app processes behind nginx. Students open "
              f"http://{_lan_address() or shown}:{port}  (Ctrl-C stops everything)", flush=True)
        while all(proc.poll() is None for proc in procs[-1:]):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, old)
        stop()


def _lan_address() -> str | None:
    """This machine's address on its network (what students type), without sending anything."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))   # TEST-NET: no packet leaves; the OS picks the outgoing interface
            return s.getsockname()[0]
        except OSError:
            return None
