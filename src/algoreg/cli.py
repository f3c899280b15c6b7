"""The ``algoreg`` command line."""

from __future__ import annotations

import argparse
import sys

from .errors import ConfigError


def _threads_pinned() -> None:
    """One BLAS/XLA thread per process (set before JAX starts): far faster on small boxes."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    flags = os.environ.get("XLA_FLAGS", "")
    if "intra_op_parallelism_threads" not in flags:
        os.environ["XLA_FLAGS"] = (
            flags + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        ).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="algoreg", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser(
        "demo", help="compare depth, optimizer and the ratio penalty on one problem"
    )
    demo.add_argument("--quick", action="store_true", help="a 1-minute version (fewer steps)")
    demo.add_argument("--n-obs", type=int, default=2000)
    demo.add_argument("--seeds", type=int, default=2)
    demo.add_argument("--max-steps", type=int, default=None)
    demo.add_argument("--lam", type=float, default=0.003, help="ratio-penalty weight λ")
    args = parser.parse_args(argv)
    _threads_pinned()
    try:
        if args.command in (None, "demo"):
            from . import demo as demo_mod

            quick = getattr(args, "quick", False)
            steps = getattr(args, "max_steps", None) or (8000 if quick else 30_000)
            demo_mod.run(
                n_obs=getattr(args, "n_obs", 2000),
                n_seeds=getattr(args, "seeds", 2),
                max_steps=steps,
                lam=getattr(args, "lam", 0.003),
            )
    except ConfigError as exc:
        print(f"algoreg: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("algoreg: interrupted", file=sys.stderr)
        return 130
    return 0
