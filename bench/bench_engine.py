"""Engine throughput table: the same as ``algoreg bench`` (see ``algoreg bench --help``).

    python bench/bench_engine.py [--quick] [--sizes 100x100 943x1682] [--depths 1 3]
        [--optimizers gd adam] [--penalties none svd newton_schulz gram subspace]
        [--batches 1 16 64] [--iterations 8] [--rank 16]

steps/s for each size × depth × optimizer × batch size, with and without the ratio penalty,
as a fraction of the FLOP floor at this machine's single-thread matmul rate (measured in the
same run), compile time and program memory. Threads are pinned to one before JAX starts.
"""

import sys

from algoreg.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
