"""Wrong argument types and values fail before any request, naming the argument."""

from __future__ import annotations

import datetime
import math
from typing import Any, Callable

import pytest

import konductor
from konductor import GateCondition


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("30s", TypeError, "ttl must be a number of seconds or a datetime.timedelta, not str"),
        (True, TypeError, "ttl must be a number of seconds or a datetime.timedelta, not bool"),
        (-1, konductor.InvalidArgumentError, 'invalid ttl "-1s": must be a finite, non-negative number of seconds'),
        (datetime.timedelta(seconds=-5), konductor.InvalidArgumentError, 'invalid ttl "-5s"'),
        (math.nan, konductor.InvalidArgumentError, 'invalid ttl "NaNs": must be a finite'),
        (math.inf, konductor.InvalidArgumentError, 'invalid ttl "infs": must be a finite'),
    ],
)
def test_bad_ttl_is_rejected_with_a_clear_message(
    client: konductor.Client, value: Any, error: type, message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")):
        client.acquire_semaphore("any", ttl=value)


def test_invalid_values_are_value_errors(client: konductor.Client) -> None:
    with pytest.raises(ValueError, match="timeout"):
        client.acquire_lease("any", timeout=-0.5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.get_semaphore(42), "name must be a str, not int"),
        (lambda c: c.acquire_semaphore("s", holder=7), "holder must be a str, not int"),
        (lambda c: c.acquire_semaphore("s", priority="high"), "priority must be an int, not str"),
        (lambda c: c.acquire_semaphore("s", priority=True), "priority must be an int, not bool"),
        (lambda c: c.acquire_semaphore("s", auto_renew=1), "auto_renew must be a bool, not int"),
        (lambda c: c.acquire_semaphore("s", cancel=object()), "cancel must be a konductor.CancelToken"),
        (lambda c: c.create_semaphore("s", 2.5), "permits must be an int, not float"),
        (lambda c: c.create_gate("g", "Job"), "conditions must be a sequence of GateCondition, not str"),
        (lambda c: c.create_gate("g", [{"type": "Job"}]), r"conditions\[0\] must be a GateCondition, not dict"),
        (lambda c: c.run_as_leader("l", "not callable"), "work must be callable, not str"),
        (lambda c: c.in_namespace(None), "namespace must be a str, not NoneType"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_argument(
    client: konductor.Client, call: Callable[[konductor.Client], object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        call(client)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.create_semaphore("s", 0), "invalid permits 0: must be at least 1"),
        (lambda c: c.create_barrier("b", -1), "invalid expected -1: must be at least 1"),
        (lambda c: c.acquire_semaphore("s", priority=2**31), "invalid priority 2147483648: must be at most"),
        (lambda c: c.get_lease("UPPER"), "invalid name"),
        (lambda c: c.in_namespace("bad namespace"), "invalid namespace"),
        (lambda c: c.create_gate("g", [GateCondition(type="Pod", name="p")]), "unknown variant `Pod`, expected one of `Job`"),
        (lambda c: c.create_gate("g", [GateCondition(type="Job", name="Bad_Name")]), "invalid condition name"),
    ],
)
def test_bad_values_raise_invalid_argument(
    client: konductor.Client, call: Callable[[konductor.Client], object], message: str
) -> None:
    with pytest.raises(konductor.InvalidArgumentError, match=message):
        call(client)


def test_client_arguments_are_checked(cluster_kubeconfig: str) -> None:
    with pytest.raises(TypeError, match="kubeconfig must be a str or os.PathLike, not int"):
        konductor.Client(kubeconfig=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="namespace must be a str, not bytes"):
        konductor.Client(namespace=b"ns", kubeconfig=cluster_kubeconfig)  # type: ignore[arg-type]
    with pytest.raises(konductor.InvalidArgumentError, match="namespace"):
        konductor.Client(namespace="Not Valid", kubeconfig=cluster_kubeconfig)


def test_leadership_sleep_checks_its_duration(client: konductor.Client) -> None:
    client.create_lease("l")

    def work(leadership: konductor.Leadership) -> None:
        with pytest.raises(TypeError, match="duration must be a number of seconds"):
            leadership.sleep("1s")  # type: ignore[arg-type]
        with pytest.raises(konductor.InvalidArgumentError, match='invalid duration "-1s"'):
            leadership.sleep(-1)

    client.run_as_leader("l", work)


def test_timedelta_and_float_durations_are_accepted(client: konductor.Client) -> None:
    client.create_semaphore("s", 1)
    with client.semaphore("s", ttl=datetime.timedelta(seconds=90), timeout=2.5) as permit:
        assert permit.ttl == datetime.timedelta(seconds=90)
    with client.semaphore("s", ttl=0.75 * 100) as permit:
        assert permit.ttl == datetime.timedelta(seconds=75)
