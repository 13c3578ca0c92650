"""Onces: the work runs in exactly one of several callers, the others learn
it is done; a failure is recorded, final or retried."""

from __future__ import annotations

import threading
import time
from typing import List

import pytest

import konductor
from konductor import resources


def test_create_get_list_delete(client: konductor.Client) -> None:
    created = client.create_once("migrate", ttl=60, retry_failed=True)
    assert isinstance(created, resources.Once)
    assert (created.on_failure, created.phase, created.is_done) == ("Retry", "", False)
    assert [o.name for o in client.list_onces()] == ["migrate"]
    with pytest.raises(konductor.AlreadyExistsError):
        client.create_once("migrate")
    with pytest.raises(TypeError):
        client.do_once("migrate", "not callable")  # type: ignore[arg-type]
    client.delete_once("migrate")
    with pytest.raises(konductor.NotFoundError):
        client.do_once("migrate", lambda run: None, timeout=1)


def test_the_work_runs_once_among_threads(client: konductor.Client) -> None:
    client.create_once("init")
    runs: List[int] = []
    results: List[bool] = []

    def work(run: konductor.OnceRun) -> None:
        runs.append(run.token)
        time.sleep(0.3)

    def call(i: int) -> None:
        results.append(client.do_once("init", work, holder=f"replica-{i}", timeout=30))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert runs == [1] and sorted(results) == [False, False, False, True]
    once = client.get_once("init")
    assert once.is_done and once.ran_by is not None and once.ran_by.startswith("replica-")
    assert client.do_once("init", work) is False


def test_a_failure_is_recorded_final_or_retried(client: konductor.Client) -> None:
    client.create_once("final")

    def fail(run: konductor.OnceRun) -> None:
        raise RuntimeError("schema locked")

    with pytest.raises(RuntimeError, match="schema locked"):
        client.do_once("final", fail)
    once = client.get_once("final")
    assert (once.phase, once.message) == ("Failed", "RuntimeError: schema locked")
    with pytest.raises(konductor.FailedError, match="schema locked"):
        client.do_once("final", lambda run: None)

    client.create_once("retried", retry_failed=True)
    with pytest.raises(RuntimeError):
        client.do_once("retried", fail)
    assert client.do_once("retried", lambda run: None) is True
    assert client.get_once("retried").is_done


def test_an_interrupted_run_records_nothing_and_the_next_caller_runs_it(client: konductor.Client) -> None:
    client.create_once("interrupted")

    def interrupt(run: konductor.OnceRun) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client.do_once("interrupted", interrupt)
    assert client.get_once("interrupted").phase == "Pending"
    assert client.do_once("interrupted", lambda run: None) is True
    assert client.get_once("interrupted").message == ""
