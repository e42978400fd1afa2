"""The README's API example is real code: run it as written."""

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block_after(heading: str) -> str:
    text = README.read_text()
    section = text.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block after {heading!r} in README.md"
    return match.group(1)


@pytest.mark.slow
@pytest.mark.cluster
def test_api_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # it saves ppo.pt in the working directory
    namespace = {"__name__": "readme_example"}
    exec(compile(_python_block_after("## The API in a few lines"), "README.md", "exec"), namespace)

    best, runs, result = namespace["best"], namespace["runs"], namespace["result"]
    assert best.V.shape == (16,)
    assert runs.returns.shape == (100, 2000)
    assert os.path.exists(tmp_path / "ppo.pt")
    frame = result.to_frame()
    assert len(frame) > 0 and (frame["status"] == "applied").any()
