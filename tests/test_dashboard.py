"""Dashboard links a student can open: plain on a laptop, through the hub's or the lab's proxy elsewhere."""

import os
import subprocess
from pathlib import Path

import dask
import pytest

import drlkit
from drlkit.distributed import dashboard_url
from drlkit.widgets.distributed import show_dashboard_link, show_task_stream

ROOT = Path(__file__).resolve().parents[1]


def _start_env(**extra: str) -> dict[str, str]:
    """The environment binder/start hands to the process it starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "DASK_DISTRIBUTED__DASHBOARD"))}
    env.update(extra)
    out = subprocess.run(
        ["bash", str(ROOT / "binder" / "start"), "env"], env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_binder_start_points_dashboard_links_at_the_hub_proxy():
    env = _start_env(JUPYTERHUB_SERVICE_PREFIX="/user/alice-1x2/")
    assert env["DASK_DISTRIBUTED__DASHBOARD__LINK"] == "/user/alice-1x2/proxy/{port}/status"


def test_binder_start_leaves_links_alone_outside_a_hub_and_when_set():
    assert "DASK_DISTRIBUTED__DASHBOARD__LINK" not in _start_env()
    env = _start_env(JUPYTERHUB_SERVICE_PREFIX="/user/a/", DASK_DISTRIBUTED__DASHBOARD__LINK="http://x/{port}/status")
    assert env["DASK_DISTRIBUTED__DASHBOARD__LINK"] == "http://x/{port}/status"


def test_the_makefile_runs_the_lab_with_proxied_dashboard_links():
    makefile = (ROOT / "Makefile").read_text()
    target = makefile.split("\ntutorials:", 1)[1].split("\n\n", 1)[0]
    assert "DASK_DISTRIBUTED__DASHBOARD__LINK='/proxy/{port}/status'" in target and "jupyter lab" in target


@pytest.mark.cluster
def test_links_follow_the_template_and_stay_plain_without_one():
    with drlkit.cluster(n_workers=1, quiet=True) as client:
        port = client.scheduler_info()["services"]["dashboard"]
        assert dashboard_url(client) == f"http://127.0.0.1:{port}/status"
        assert dashboard_url(client, "individual-task-stream") == f"http://127.0.0.1:{port}/individual-task-stream"
        with dask.config.set({"distributed.dashboard.link": "/user/bob/proxy/{port}/status"}):
            assert dashboard_url(client, "individual-task-stream") == f"/user/bob/proxy/{port}/individual-task-stream"
            assert f'src="/user/bob/proxy/{port}/individual-task-stream' in show_task_stream(client)._repr_html_()
            assert f'href="/user/bob/proxy/{port}/status"' in show_dashboard_link(client).data
        with pytest.raises(ValueError, match="page.*individual-task-stream"):
            dashboard_url(client, "task-stream-typo")
        with pytest.raises(ValueError, match="height"):
            show_task_stream(client, height=5)
        with dask.config.set({"distributed.dashboard.link": "http://example/{port}/"}):
            with pytest.raises(ValueError, match="does not end in /status"):
                dashboard_url(client)
