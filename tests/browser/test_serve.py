"""``./scripts/serve`` makes every absolute link name the host and port it serves (issue 8, defect 1)."""
import json
import os
import sqlite3
import subprocess
import time
import urllib.request

from tests.browser.conftest import ROOT, _free_port


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (our own server)
        return answer.status, answer.read()


def test_serve_links_follow_host_and_port(live_server, tmp_path):
    """PORT=<random> ./scripts/serve: the API's url and ics_url and the confirmation email name that port."""
    instance = tmp_path / "instance"
    instance.mkdir()
    with sqlite3.connect(live_server.instance / "mhfa.db") as source, \
            sqlite3.connect(instance / "mhfa.db") as copy:
        source.backup(copy)  # a populated database: serve skips the demo history (--if-empty)
    port = _free_port()
    env = {k: v for k, v in live_server.env.items() if k not in ("MHFA_BASE_URL", "SECRET_KEY")}
    env.update({"PORT": str(port), "HOST": "127.0.0.1", "MHFA_INSTANCE_PATH": str(instance)})
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        courses = json.loads(_get(base + "/api/v1/courses?per_page=5")[1])["courses"]
        assert courses, "the demo history has published courses ahead"
        for course in courses:
            assert course["url"].startswith(base + "/courses/"), course["url"]
            assert course["ics_url"].startswith(base + "/courses/"), course["ics_url"]
        assert f"links in emails and calendars: {base}" in (tmp_path / "serve.log").read_text()
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
        log.close()
