"""Two app replicas on one PostgreSQL database behind nginx with sticky sessions, for real (deploy/nginx.conf):
the teacher creates a session on one replica, students join through the proxy, one replica is killed
mid-quiz, the students' browsers reconnect and carry on, every acknowledged answer is kept exactly once, and
the dashboard on the surviving replica shows every answer."""
import re
import shutil
import subprocess
import tempfile
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.helpers import wait_ready
from tests.helpers import ROOT, free_port, run_app
from tests.helpers import new_database, wait_port

pytestmark = [pytest.mark.browser, pytest.mark.pretrained]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def start_nginx(stack: ExitStack, port: int, upstreams: list[int]) -> None:
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed (apt-get install nginx)") if __import__("os").environ.get("CI") \
            else pytest.skip("nginx is not installed")
    conf = (ROOT / "deploy/nginx.conf").read_text()
    conf = conf.replace("app1:8501", f"127.0.0.1:{upstreams[0]}").replace("app2:8501", f"127.0.0.1:{upstreams[1]}")
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
    prefix = Path(tempfile.mkdtemp(prefix="gan_nginx_"))
    (prefix / "logs").mkdir()
    (prefix / "nginx.conf").write_text(conf)
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g",
                             f"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    stack.callback(lambda: (proc.terminate(), proc.wait(10), shutil.rmtree(prefix, ignore_errors=True)))
    wait_port(port)


def upstream_of(proxy: str) -> str:
    with urllib.request.urlopen(proxy + "/_stcore/health", timeout=10) as r:
        return r.headers["X-Upstream"]


def answered(page) -> int:
    text = page.get_by_text(re.compile(r"^\d+ of 6 answered$")).inner_text()
    return int(text.split()[0])


def answer_once(page, i: int) -> None:
    n = answered(page)
    wait_ready(page)
    page.wait_for_timeout(300)
    page.get_by_role("button", name=re.compile("^Left is real" if i % 2 else "^Right is real")).click()
    expect(page.get_by_text(f"{n + 1} of 6 answered")).to_be_visible(timeout=60_000)  # acknowledged


def test_two_replicas_behind_nginx_survive_a_replica_dying(browser, pg_server):
    db, drop = new_database(pg_server)
    env = {"GAN_STUDIO_QUIZ_DB": db}
    ports, procs = [free_port(), free_port()], []
    proxy_port = free_port()
    with ExitStack() as stack:
        stack.callback(drop)
        urls = [stack.enter_context(run_app(p, env=env, procs=procs)) for p in ports]
        start_nginx(stack, proxy_port, ports)
        proxy = f"http://127.0.0.1:{proxy_port}"
        sticky = int(upstream_of(proxy).rsplit(":", 1)[1])
        assert {upstream_of(proxy) for _ in range(5)} == {f"127.0.0.1:{sticky}"}   # sticky
        other = ports[1 - ports.index(sticky)]

        # the teacher creates a 6-trial session on the replica the proxy does not send students to
        teacher = browser.new_context().new_page()
        teacher.goto(f"http://127.0.0.1:{other}/quiz")
        teacher.get_by_text("Running a session", exact=True).click()
        form = teacher.locator("[data-testid='stForm']").filter(has_text="Create a session")
        box = form.get_by_role("spinbutton", name="Trials per person")
        box.fill("6")
        box.press("Tab")
        form.get_by_role("button", name="Create session").click()
        code_box = teacher.locator("[data-testid='stMetric']").filter(has_text="Join code")
        expect(code_box).to_be_visible(timeout=120_000)
        code = code_box.locator("[data-testid='stMetricValue']").inner_text().strip()

        students = []
        for nick in ("Ada", "Bo"):
            page = browser.new_context().new_page()
            page.goto(proxy + "/quiz")
            page.get_by_role("textbox", name="Join code").fill(code)
            page.get_by_role("textbox", name="Nickname").fill(nick)
            page.get_by_role("button", name="Join", exact=True).click()
            expect(page.get_by_text("0 of 6 answered")).to_be_visible(timeout=120_000)
            students.append(page)
        for i in range(3):
            for page in students:
                answer_once(page, i)

        procs[ports.index(sticky)].kill()              # the students' replica dies mid-quiz
        procs[ports.index(sticky)].wait(10)
        for page in students:                         # their browsers reconnect through nginx to the other one
            expect(page.get_by_text("3 of 6 answered")).to_be_visible(timeout=120_000)
            for i in range(3, 6):
                answer_once(page, i)
            expect(page.get_by_text("Done")).to_be_visible(timeout=60_000)
        assert upstream_of(proxy) == f"127.0.0.1:{other}"

        engine = create_engine(db)
        with engine.connect() as c:
            n_answers = c.execute(text("SELECT count(*) FROM answers")).scalar()
            n_trials = c.execute(text("SELECT count(DISTINCT trial_id) FROM answers")).scalar()
            people = c.execute(text("SELECT count(*) FROM participants")).scalar()
        engine.dispose()
        assert (n_answers, n_trials, people) == (12, 12, 2)  # every acknowledged answer, once; no duplicate joins
        expect(teacher.get_by_text("2 participants, 12 answers")).to_be_visible(timeout=30_000)
        for page in students + [teacher]:
            assert page.locator("[data-testid='stException']").count() == 0
