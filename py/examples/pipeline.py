"""Multi-stage pipeline: workers meet at a barrier between stages.

Each worker would normally be its own pod; here they are threads of one
process so that the example runs on its own::

    KONDUCTOR_NAMESPACE=default python pipeline.py --workers 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time

import konductor


def process_stage(stage: int, worker: str) -> None:
    time.sleep(0.1)
    print(f"{worker}: stage {stage} done")


def run_pipeline(client: konductor.Client, worker: str) -> None:
    process_stage(1, worker)

    # Signal that stage 1 is complete, then wait for every worker.
    client.arrive_barrier("stage-1-done", holder=worker)
    client.wait_barrier("stage-1-done", timeout=30 * 60)

    process_stage(2, worker)

    # The same in one step: the block runs once everyone has arrived.
    with client.barrier("stage-2-done", holder=worker, timeout=30 * 60):
        process_stage(3, worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=3)
    workers = parser.parse_args().workers

    client = konductor.Client(namespace=os.environ.get("KONDUCTOR_NAMESPACE"))
    for name in ("stage-1-done", "stage-2-done"):
        with contextlib.suppress(konductor.AlreadyExistsError):  # usually an admin applies YAML
            client.create_barrier(name, expected=workers)

    threads = [
        threading.Thread(target=run_pipeline, args=(client, f"worker-{i}")) for i in range(1, workers + 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("pipeline complete")


if __name__ == "__main__":
    main()
