"""Init-container pattern: wait until a gate opens before the main container starts.

The operator opens the gate once all of its conditions hold::

    KONDUCTOR_NAMESPACE=default python wait_for_dependencies.py --timeout 300
"""

from __future__ import annotations

import argparse
import os
import sys

import konductor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gate", default="dependencies-ready")
    parser.add_argument("--timeout", type=float, default=300, help="seconds")
    args = parser.parse_args()

    client = konductor.Client(namespace=os.environ.get("KONDUCTOR_NAMESPACE"))
    if client.check_gate(args.gate):
        print("gate is open")
    else:
        print("gate is closed; conditions:")
        for condition in client.gate_conditions(args.gate):
            status = "MET" if condition.met else "NOT MET"
            print(f"  {status}: {condition.type}/{condition.name} - {condition.message}")
    try:
        client.wait_gate(args.gate, timeout=args.timeout)
    except konductor.TimeoutError:
        print(f"dependencies not ready after {args.timeout:.0f}s", file=sys.stderr)
        return 1
    except konductor.FailedError as error:
        print(f"gate failed: {error.reason}", file=sys.stderr)
        return 1
    print("dependencies ready, starting main container")
    return 0


if __name__ == "__main__":
    sys.exit(main())
