"""The installed package: public names, docs, typing (mypy, stubtest), and the examples."""

from __future__ import annotations

import io
import importlib.metadata
import inspect
import os
import pydoc
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

import konductor
from conftest import Cluster

PY = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((PY / "examples").glob("*.py"))

def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(konductor) if not name.startswith("_")}
    assert set(konductor.__all__) - {"__version__"} == public - {"annotations"}
    for name in konductor.__all__:
        assert hasattr(konductor, name), name


def test_the_wheel_ships_types_and_the_native_module() -> None:
    package = Path(konductor.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_native.pyi").is_file()
    assert konductor.__version__ == konductor._native.VERSION


def test_the_installed_wheel_is_the_abi3_manylinux2014_release_build() -> None:
    wheel = importlib.metadata.distribution("konductor").read_text("WHEEL") or ""
    tags = {line.split(": ", 1)[1] for line in wheel.splitlines() if line.startswith("Tag: ")}
    expected = {"cp39-abi3-manylinux2014_x86_64", "cp39-abi3-manylinux_2_17_x86_64"}
    assert tags == expected, f"expected the wheel tagged {sorted(expected)}, it is tagged {sorted(tags)}"


def test_the_package_metadata_is_complete() -> None:
    metadata = importlib.metadata.metadata("konductor")
    assert metadata["Version"] == konductor.__version__
    assert metadata["Summary"].startswith("Kubernetes-native coordination primitives")
    description = str(metadata.get_payload())  # type: ignore[attr-defined]  # an email.message.Message
    assert description.strip() == (PY / "README.md").read_text().strip(), "the description should be py/README.md"
    assert metadata["Description-Content-Type"].startswith("text/markdown")
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.9"
    assert "Typing :: Typed" in metadata.get_all("Classifier", [])
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL", []))
    assert {"Homepage", "Repository", "Documentation", "Changelog", "Issues"} <= set(urls), urls


def test_every_public_name_and_method_has_a_docstring() -> None:
    missing = []
    for name in konductor.__all__:
        value = getattr(konductor, name)
        if not (inspect.isclass(value) or inspect.ismodule(value) or callable(value)):
            continue
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            for attr, member in vars(value).items():
                documented = callable(member) or isinstance(member, (property, classmethod, staticmethod))
                if documented and not attr.startswith("_") and not inspect.getdoc(member):
                    missing.append(f"{name}.{attr}")
    for cls in (konductor.resources.Semaphore, konductor.resources.Gate):
        assert inspect.getdoc(cls.to_dict)
    assert missing == []


def test_help_of_client_shows_every_public_method_under_its_name_with_its_signature_and_whole_docstring() -> None:
    buffer = io.StringIO()
    pydoc.Helper(output=buffer).help(konductor.Client)
    # pydoc draws the class body behind " |  "; without it, each method is
    # its heading line followed by its docstring indented by four spaces.
    lines = [line[4:] if line.startswith(" |  ") else line[2:] for line in buffer.getvalue().splitlines()]
    methods = [(name, member) for name, member in inspect.getmembers(konductor.Client) if callable(member)]
    public = [(name, member) for name, member in methods if not name.startswith("_")]
    assert len(public) > 20, f"expected the generic and per-kind methods, got {[name for name, _ in public]}"
    for name, member in public:
        heading = f"{name}{inspect.signature(member)}"
        found = [index for index, line in enumerate(lines) if line.startswith(heading)]
        assert len(found) == 1, f"help(konductor.Client) should show {heading!r} once, found it {len(found)} times"
        doc = (inspect.getdoc(member) or "").splitlines()
        shown = [line[4:] for line in lines[found[0] + 1 : found[0] + 1 + len(doc)]]
        assert shown == doc, f"help(konductor.Client) shows {name} with another docstring than its own"


def test_mypy_strict_passes_on_the_package_stubs_and_examples() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(PY / "python" / "konductor"), *map(str, EXAMPLES)],
        capture_output=True,
        text=True,
        cwd=PY,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_stubtest_finds_the_stubs_match_the_native_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "konductor._native"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # away from the source tree: check the installed package
    )
    assert result.returncode == 0, result.stdout + result.stderr


def run_example(cluster: Cluster, namespace: str, script: str, *args: str) -> str:
    env = dict(os.environ, KUBECONFIG=cluster.kubeconfig, KONDUCTOR_NAMESPACE=namespace)
    env.pop("KUBERNETES_SERVICE_HOST", None)
    result = subprocess.run(
        [sys.executable, str(PY / "examples" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_example_quick_start(cluster: Cluster, namespace: str) -> None:
    out = run_example(cluster, namespace, "quick_start.py")
    assert "api-quota: 3/3 permits available" in out


def test_example_pipeline(cluster: Cluster, namespace: str) -> None:
    out = run_example(cluster, namespace, "pipeline.py", "--workers", "3")
    lines = out.splitlines()
    last_stage_1 = max(i for i, line in enumerate(lines) if "stage 1 done" in line)
    first_stage_2 = min(i for i, line in enumerate(lines) if "stage 2 done" in line)
    assert last_stage_1 < first_stage_2, "no worker starts stage 2 before all finished stage 1"
    assert lines[-1] == "pipeline complete"


def test_example_leader_election(cluster: Cluster, namespace: str) -> None:
    out = run_example(cluster, namespace, "leader_election.py", "--ticks", "2", "--interval", "0.05")
    assert "stepped down after 2 rounds" in out
    assert "running the singleton task" in out


def test_example_batch_processing(cluster: Cluster, namespace: str) -> None:
    out = run_example(cluster, namespace, "batch_processing.py")
    assert "processed 20 items" in out


def test_example_wait_for_dependencies(
    cluster: Cluster, namespace: str, client: konductor.Client, patch_status: Callable[[str, str, str], None]
) -> None:
    client.create_gate("dependencies-ready", [konductor.GateCondition(type="Job", name="migrate", state="Complete")])
    patch_status(
        "gates",
        "dependencies-ready",
        '{"phase": "Waiting", "conditionStatuses": [{"type": "Job", "name": "migrate", "met": false, "message": "running"}]}',
    )
    closed = subprocess.run(
        [sys.executable, str(PY / "examples" / "wait_for_dependencies.py"), "--timeout", "0.3"],
        capture_output=True,
        text=True,
        env=dict(os.environ, KUBECONFIG=cluster.kubeconfig, KONDUCTOR_NAMESPACE=namespace),
        timeout=60,
    )
    assert closed.returncode == 1 and "NOT MET: Job/migrate - running" in closed.stdout
    patch_status("gates", "dependencies-ready", '{"phase": "Open"}')
    assert "dependencies ready" in run_example(cluster, namespace, "wait_for_dependencies.py")
