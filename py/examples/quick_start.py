"""Quick start: rate-limit calls to an external API with a semaphore.

Run against any cluster with the Konductor CRDs (configuration as kubectl:
in-cluster, $KUBECONFIG or ~/.kube/config)::

    KONDUCTOR_NAMESPACE=default python quick_start.py
"""

from __future__ import annotations

import contextlib
import datetime
import os

import konductor


def call_external_api(fencing_token: int) -> None:
    print(f"calling the API (fencing token {fencing_token})")


def main() -> None:
    client = konductor.Client(namespace=os.environ.get("KONDUCTOR_NAMESPACE"))
    with contextlib.suppress(konductor.AlreadyExistsError):  # usually an admin applies YAML
        client.create_semaphore("api-quota", permits=3)

    # Acquire, work, release on every exit path.
    with client.semaphore("api-quota", ttl=datetime.timedelta(minutes=5)) as permit:
        call_external_api(permit.token)

    # With options, and the errors worth telling apart.
    try:
        permit = client.acquire_semaphore(
            "api-quota",
            ttl=600,  # seconds or a timedelta
            timeout=30,  # wait at most 30 s; None waits forever, 0 tries once
            holder="my-app-instance",
        )
    except konductor.TimeoutError:
        print("timeout acquiring permit")
        return
    except konductor.NotFoundError:
        print("semaphore not found")
        return
    try:
        call_external_api(permit.token)
        permit.renew()  # extend by the TTL when the work runs long
        print(f"permit held until {permit.expires_at:%H:%M:%S} UTC")
    finally:
        permit.release()

    semaphore = client.get_semaphore("api-quota")
    print(f"{semaphore.name}: {semaphore.available}/{semaphore.permits} permits available")


if __name__ == "__main__":
    main()
