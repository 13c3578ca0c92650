"""Every exception class: its place in the hierarchy, and a real situation that raises it."""

from __future__ import annotations

import builtins
import pickle
import re
import threading
import time
from typing import Callable
from pathlib import Path

import pytest

import konductor
from conftest import Cluster


def test_hierarchy_builds_on_the_builtins() -> None:
    for name in konductor._exceptions.__all__:
        assert issubclass(getattr(konductor, name), konductor.KonductorError)
    assert issubclass(konductor.TimeoutError, builtins.TimeoutError)
    assert issubclass(konductor.InvalidArgumentError, ValueError)
    assert issubclass(konductor.ForbiddenError, konductor.ApiError)
    assert issubclass(konductor.UnauthorizedError, konductor.ApiError)
    assert issubclass(konductor.AlreadyExistsError, konductor.ApiError)


def test_exceptions_survive_pickling() -> None:
    error = konductor.ApiError("API server error: 409", status=409, reason="AlreadyExists", body="{}")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.status, copy.reason) == (konductor.ApiError, str(error), 409, "AlreadyExists")
    timeout = pickle.loads(pickle.dumps(konductor.TimeoutError("late", what="x", waited=1.5)))
    assert (timeout.what, timeout.waited) == ("x", 1.5)


def test_not_found(client: konductor.Client) -> None:
    with pytest.raises(konductor.NotFoundError) as error:
        client.acquire_semaphore("missing", timeout=1)
    assert (error.value.kind, error.value.namespace, error.value.name) == ("Semaphore", client.namespace, "missing")


def test_already_held(client: konductor.Client) -> None:
    client.create_semaphore("s", 2)
    with client.semaphore("s", holder="me"):
        with pytest.raises(konductor.AlreadyHeldError) as error:
            client.acquire_semaphore("s", holder="me", timeout=1)
    assert error.value.holder == "me"


def test_lease_held(client: konductor.Client) -> None:
    client.create_lease("l")
    with client.lease("l", holder="first"):
        with pytest.raises(konductor.LeaseHeldError):
            client.acquire_lease("l", timeout=0)


def test_locked(client: konductor.Client) -> None:
    client.create_mutex("m")
    with client.mutex("m", holder="first"):
        with pytest.raises(konductor.LockedError) as error:
            client.lock_mutex("m", timeout=0)
    assert (error.value.kind, error.value.name, error.value.holder) == ("mutex", "m", "first")


def test_timeout_reports_what_and_how_long(client: konductor.Client) -> None:
    client.create_semaphore("s", 1)
    with client.semaphore("s"):
        with pytest.raises(konductor.TimeoutError) as error:
            client.acquire_semaphore("s", timeout=0.25)
    assert "semaphore" in error.value.what and error.value.waited >= 0.25
    assert client.semaphore_waiters("s") == (), "a timed-out waiter leaves the queue"


def test_cancelled_from_another_thread_leaves_the_queue(client: konductor.Client) -> None:
    client.create_semaphore("s", 1)
    token = konductor.CancelToken()
    with client.semaphore("s"):
        threading.Timer(0.3, token.cancel).start()
        started = time.monotonic()
        with pytest.raises(konductor.CancelledError):
            client.acquire_semaphore("s", cancel=token)
        assert time.monotonic() - started < 2
    assert token.cancelled and "cancelled=True" in repr(token)
    assert client.semaphore_waiters("s") == ()


def test_lost_after_the_ttl_passed_unrenewed(client: konductor.Client) -> None:
    client.create_semaphore("s", 1)
    permit = client.acquire_semaphore("s", ttl=1)
    time.sleep(1.2)
    assert permit.is_lost
    with pytest.raises(konductor.LostError) as error:
        permit.renew()
    assert (error.value.kind, error.value.name, error.value.holder) == ("Semaphore", "s", permit.holder)
    permit.release()


def test_failed(client: konductor.Client, patch_status: Callable[[str, str, str], None]) -> None:
    client.create_barrier("b", 2)
    patch_status("barriers", "b", '{"phase": "Failed", "message": "deadline passed"}')
    with pytest.raises(konductor.FailedError):
        client.wait_barrier("b")


def test_already_exists_names_the_object_and_is_an_api_error_409(client: konductor.Client) -> None:
    client.create_semaphore("s", 1)
    with pytest.raises(konductor.AlreadyExistsError) as error:
        client.create_semaphore("s", 1)
    assert (error.value.kind, error.value.namespace, error.value.name) == ("Semaphore", client.namespace, "s")
    assert isinstance(error.value, konductor.ApiError)
    assert (error.value.status, error.value.reason) == (409, "AlreadyExists")


def test_unknown_exception_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="NotFoundError has no attribute 'status'"):
        konductor.NotFoundError("gone", status=404)


def test_forbidden_without_a_role_binding(cluster: Cluster, namespace: str) -> None:
    if cluster.worker_kubeconfig is None:
        pytest.skip("needs the local control plane's worker user")
    worker = konductor.Client(namespace=namespace, kubeconfig=cluster.worker_kubeconfig)
    with pytest.raises(konductor.ForbiddenError) as error:
        worker.list_semaphores()
    assert error.value.status == 403 and error.value.reason == "Forbidden"


def test_unauthorized_with_a_bad_token(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    text = Path(cluster.kubeconfig).read_text()
    if "token:" not in text:
        pytest.skip("the test cluster's kubeconfig does not use a token")
    bad = tmp_path / "bad.kubeconfig"
    bad.write_text(re.sub(r"token: .*", "token: not-a-valid-token", text))
    with pytest.raises(konductor.UnauthorizedError) as error:
        konductor.Client(namespace=namespace, kubeconfig=bad).list_leases()
    assert error.value.status == 401


def test_invalid_argument_before_any_request(client: konductor.Client) -> None:
    with pytest.raises(konductor.InvalidArgumentError) as error:
        client.get_semaphore("Not_A_Valid_Name")
    assert (error.value.argument, error.value.value) == ("name", "Not_A_Valid_Name")
    with pytest.raises(ValueError):
        client.create_barrier("b", 2, quorum=3)


def test_config_error_for_a_missing_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(konductor.ConfigError, match="missing.kubeconfig"):
        konductor.Client(kubeconfig=tmp_path / "missing.kubeconfig")
    with pytest.raises(konductor.ConfigError):
        konductor.Client(kubeconfig=tmp_path / "missing.kubeconfig", context="nope")


def test_transport_error_when_nothing_listens(cluster: Cluster, tmp_path: Path) -> None:
    text = Path(cluster.kubeconfig).read_text()
    closed = tmp_path / "closed.kubeconfig"
    closed.write_text(re.sub(r"server: .*", "server: https://127.0.0.1:1", text))
    with pytest.raises(konductor.TransportError):
        konductor.Client(namespace="default", kubeconfig=closed).list_gates()


