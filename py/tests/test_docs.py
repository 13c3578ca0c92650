"""The guide (README.md, the PyPI page) runs: its Python blocks are executed
in order, in one namespace, against the real control plane."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import konductor
from conftest import Cluster

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> List[Tuple[int, str]]:
    """Each ```python block with the line it starts on."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL):
        blocks.append((text.count("\n", 0, match.start()) + 2, match.group(1)))
    return blocks


def test_the_guide_has_a_block_for_every_section() -> None:
    text = README.read_text()
    assert len(python_blocks(text)) >= 8, "expected the guide to show code for each primitive, errors and cancellation"
    for heading in ("## Install", "## Quick start", "## Semaphores", "## Barriers", "## Leases", "## Mutexes", "## Onces", "## Gates",
                    "## Errors", "## Cancellation"):
        assert heading in text, f"the guide has no section {heading!r}"


def test_every_python_block_of_the_guide_runs(
    cluster: Cluster,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The guide's `konductor.Client()` finds $KUBECONFIG and works in its
    # context's namespace: the test's own.
    kubeconfig = tmp_path / "kubeconfig"
    shutil.copy(cluster.kubeconfig, kubeconfig)
    cluster.kubectl("--kubeconfig", str(kubeconfig), "config", "set-context", "--current", f"--namespace={namespace}")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert konductor.Client().namespace == namespace, "the guide's client would not work in the test's namespace"
    scope: Dict[str, Any] = {"__name__": "readme"}
    for line, code in python_blocks(README.read_text()):
        try:
            exec(compile(code, f"{README}:{line}", "exec"), scope)
        except BaseException as error:
            pytest.fail(f"the README block at line {line} raised {error!r}\n{capsys.readouterr().out}")
    out = capsys.readouterr().out
    for expected in ("holding a permit as", "every worker finished stage 1", "replica-a runs the report",
                     "led term", "Semaphore no-such-semaphore", "409 api-quota", "gave up waiting"):
        assert expected in out, f"the guide's output lacks {expected!r}:\n{out}"


def test_the_repository_readme_shows_the_guides_quick_start() -> None:
    root = README.parents[1] / "README.md"
    (_, root_quick_start), *_ = python_blocks(root.read_text())
    (_, quick_start), *_ = python_blocks(README.read_text())
    assert root_quick_start == quick_start, "README.md's Python quick start must be py/README.md's first block"
