from algoreg.benchmark import format_table, model_flops, penalty_flops, run_bench


def test_run_bench_rows_and_table():
    rows = run_bench(
        sizes=[(12, 16)],
        depths=[2],
        optimizers=["adam"],
        penalties=["subspace", "none"],
        batches=[2],
        rank=3,
        steps=lambda *a: 5,
    )
    assert [r["penalty"] for r in rows] == ["none", "sub3"]  # reference row first
    for r in rows:
        assert r["size"] == "12x16" and r["B"] == 2 and r["steps_per_s"] > 0
        assert r["compile_s"] > 0 and r["matmul_gflops"] > 0 and 0 < r["of_floor"]
    assert rows[0]["vs_none"] == 1.0
    text = format_table(rows)
    assert "GFLOP/s" in text and "trial-steps/s" in text and "sub3" in text


def test_flop_floors():
    assert model_flops(1, (10, 20)) == 0
    assert model_flops(3, (10, 20)) == 3 * (2 * 20 * 20 * 20 + 2 * 10 * 20 * 20)
    assert penalty_flops("newton_schulz", (30, 10), iterations=2) == 2 * (4 * 100 * 30 + 2 * 1000)
    assert penalty_flops("none", (5, 5)) == 0
