"""Batch processing: limit how many batches run at once across the cluster.

    KONDUCTOR_NAMESPACE=default python batch_processing.py
"""

from __future__ import annotations

import contextlib
import datetime
import os
import time
from typing import List

import konductor


def process_item(item: str) -> None:
    time.sleep(0.01)


def acquire_with_retry(client: konductor.Client, name: str, retries: int = 3) -> konductor.Permit:
    """Retries timeouts with exponential backoff; other errors are final."""
    backoff = 1.0
    for attempt in range(1, retries + 1):
        try:
            return client.acquire_semaphore(name, timeout=10)
        except konductor.TimeoutError:
            if attempt == retries:
                raise
            print(f"retry {attempt}/{retries} after {backoff:.0f}s")
            time.sleep(backoff)
            backoff *= 2
    raise AssertionError("unreachable")


def process_batch(client: konductor.Client, items: List[str]) -> None:
    # A long batch: the permit renews itself in the background, and the
    # loop stops if it is lost anyway (e.g. the API server was unreachable
    # for longer than the TTL).
    with client.semaphore("batch-processor", ttl=datetime.timedelta(minutes=30), auto_renew=True) as permit:
        for item in items:
            if permit.is_lost:
                raise RuntimeError("batch permit lost; stopping")
            process_item(item)
    print(f"processed {len(items)} items")


def main() -> None:
    client = konductor.Client(namespace=os.environ.get("KONDUCTOR_NAMESPACE"))
    with contextlib.suppress(konductor.AlreadyExistsError):  # usually an admin applies YAML
        client.create_semaphore("batch-processor", permits=2)
    process_batch(client, [f"item-{i}" for i in range(20)])

    with acquire_with_retry(client, "batch-processor") as permit:
        print(f"got a permit after retrying (token {permit.token})")


if __name__ == "__main__":
    main()
