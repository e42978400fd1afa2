"""The README's offline RL and shaping example runs as written (in a temporary directory)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.cluster


def test_offline_and_shaping_example_runs_as_written(tmp_path, monkeypatch):
    section = README.read_text().split("### Offline RL and shaping", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["agent"].total_steps == 100
    assert (tmp_path / "datasets" / "drlkit" / "cartpole" / "medium-v0" / "data").is_dir()
