"""Gates: creation, checking, condition statuses and waiting (status written as the operator would)."""

from __future__ import annotations

from typing import Callable

import pytest

import konductor
from konductor import GateCondition, resources
from conftest import wake_latency

CONDITIONS = [
    GateCondition(type="Job", name="migrate-db", state="Complete"),
    GateCondition(type="Semaphore", name="api-quota", value=2, namespace="shared"),
]

EVALUATED = """{
  "phase": "Waiting",
  "conditionStatuses": [
    {"type": "Job", "name": "migrate-db", "met": true, "message": "job is Complete"},
    {"type": "Semaphore", "name": "api-quota", "namespace": "shared", "met": false, "message": "1 available, need 2"}
  ]
}"""


def test_create_get_list_delete(client: konductor.Client) -> None:
    created = client.create_gate("dependencies-ready", CONDITIONS, timeout=300)
    assert isinstance(created, resources.Gate)
    assert created.conditions == tuple(CONDITIONS)
    assert created.to_dict()["spec"]["conditions"][1] == {
        "type": "Semaphore",
        "name": "api-quota",
        "namespace": "shared",
        "value": 2,
    }
    assert client.get_gate("dependencies-ready").timeout is not None
    assert [g.name for g in client.list_gates()] == ["dependencies-ready"]
    client.delete_gate("dependencies-ready")
    assert client.list_gates() == []


def test_check_gate_and_conditions_follow_the_status(
    client: konductor.Client, patch_status: Callable[[str, str, str], None]
) -> None:
    client.create_gate("workflow-gate", CONDITIONS)
    assert client.check_gate("workflow-gate") is False
    assert client.gate_conditions("workflow-gate") == []

    patch_status("gates", "workflow-gate", EVALUATED)
    conditions = client.gate_conditions("workflow-gate")
    assert [(c.type, c.name, c.met, c.message) for c in conditions] == [
        ("Job", "migrate-db", True, "job is Complete"),
        ("Semaphore", "api-quota", False, "1 available, need 2"),
    ]
    assert conditions[1].namespace == "shared"
    assert client.check_gate("workflow-gate") is False

    patch_status("gates", "workflow-gate", '{"phase": "Open", "openedAt": "2026-01-02T03:04:05Z"}')
    assert client.check_gate("workflow-gate") is True
    gate = client.get_gate("workflow-gate")
    assert gate.is_open and gate.opened_at is not None and gate.opened_at.year == 2026


def test_wait_gate_returns_when_opened_and_times_out_otherwise(
    client: konductor.Client, patch_status: Callable[[str, str, str], None]
) -> None:
    client.create_gate("processing-gate", CONDITIONS)
    with pytest.raises(konductor.TimeoutError):
        client.wait_gate("processing-gate", timeout=0.2)

    _, latency = wake_latency(
        lambda: client.wait_gate("processing-gate", timeout=20),
        lambda: patch_status("gates", "processing-gate", '{"phase": "Open"}'),
    )
    assert latency < 2, f"the waiter should wake soon after the gate opened, woke after {latency:.2f}s"


def test_failed_gate_raises_failed_error(
    client: konductor.Client, patch_status: Callable[[str, str, str], None]
) -> None:
    client.create_gate("doomed", CONDITIONS, timeout=1)
    patch_status("gates", "doomed", '{"phase": "Failed", "message": "not open after 1s"}')
    with pytest.raises(konductor.FailedError, match="not open after 1s") as failed:
        client.wait_gate("doomed")
    assert failed.value.kind == "Gate"
