import contextlib
import io
import os

import pytest

# one BLAS/XLA thread: faster and deterministic on the 2-core CI box (set before JAX loads)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)


@pytest.fixture(scope="session")
def quick_preset(tmp_path_factory):
    """``quick_preset(name, *extra)`` → (study directory, exit status, stdout) of
    ``algoreg reproduce NAME --quick``, run once per session for every test that reads it."""
    from algoreg.cli import main

    done: dict[tuple, tuple] = {}

    def run(name: str, *extra: str):
        if (name, *extra) not in done:
            out = tmp_path_factory.mktemp("quick") / name
            args = ["reproduce", name, "--quick", "--out", str(out), "--no-progress", *extra]
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                code = main(args)
            done[(name, *extra)] = (out, code, buffer.getvalue())
        return done[(name, *extra)]

    return run
