"""A throwaway PostgreSQL cluster for the tests (no mocks): the one .ci/run starts (GAN_STUDIO_TEST_PG), or one
started here from Debian's postgresql package when it is installed. Each test gets its own database."""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def _bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


def start_cluster() -> tuple[str, callable]:
    """initdb + pg_ctl start on a free port, trust auth on 127.0.0.1; returns (server URL, stop function)."""
    pgbin = _bin()
    if pgbin is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="gan_pg_"))
    os.chmod(root, 0o777)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"
    subprocess.run(_as_postgres([str(pgbin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "--no-sync"]), check=True, capture_output=True)
    subprocess.run(_as_postgres([str(pgbin / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                                 f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]),
                   check=True, capture_output=True)

    def stop():
        subprocess.run(_as_postgres([str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}", stop


def server_url() -> tuple[str | None, callable]:
    url = os.environ.get("GAN_STUDIO_TEST_PG")
    if url:
        return url.rsplit("/", 1)[0] if url.count("/") > 2 else url, lambda: None
    try:
        return start_cluster()
    except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests must run in CI: {e}")
        return None, lambda: None


def new_database(server: str) -> tuple[str, callable]:
    """CREATE DATABASE with a random name; returns (its URL, drop function)."""
    from sqlalchemy import create_engine, text

    name = "t_" + secrets.token_hex(6)
    admin = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))

    def drop():
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return f"{server}/{name}", drop


def wait_port(port: int, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")
