"""Leader election: run the leader's work only while holding a lease.

Start several copies; one leads, the others wait and take over when it
stops or loses the lease::

    KONDUCTOR_NAMESPACE=default python leader_election.py --ticks 3
"""

from __future__ import annotations

import argparse
import contextlib
import os

import konductor


def run_singleton_task(client: konductor.Client) -> None:
    """Try-acquire: run a task only if no other instance is running it."""
    try:
        lease = client.try_acquire_lease("singleton-task", ttl=60)
    except konductor.LeaseHeldError as error:
        print(f"another instance is running the task ({error.holder})")
        return
    with lease:
        print(f"running the singleton task (fencing token {lease.token})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=3, help="leader work rounds before stepping down")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between rounds")
    args = parser.parse_args()

    client = konductor.Client(namespace=os.environ.get("KONDUCTOR_NAMESPACE"))
    for lease in ("service-leader", "singleton-task"):
        with contextlib.suppress(konductor.AlreadyExistsError):  # usually an admin applies YAML
            client.create_lease(lease)

    def lead(leadership: konductor.Leadership) -> int:
        print(f"became leader as {leadership.holder} (term {leadership.token})")
        rounds = 0
        # sleep() returns False the moment leadership is lost: stop then.
        while rounds < args.ticks and leadership.sleep(args.interval):
            rounds += 1
            print(f"leader round {rounds}, writes fenced with token {leadership.token}")
        return rounds

    try:
        rounds = client.run_as_leader("service-leader", lead, ttl=30)
    except konductor.LostError:
        print("lost leadership; another instance takes over")
        return
    print(f"stepped down after {rounds} rounds")

    run_singleton_task(client)


if __name__ == "__main__":
    main()
