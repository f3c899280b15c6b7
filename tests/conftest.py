import os

# one BLAS/XLA thread: faster and deterministic on the 2-core CI box (set before JAX loads)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
