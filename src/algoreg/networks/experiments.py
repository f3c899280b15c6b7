"""Experiment presets on offline data; each writes ``table.md``, ``table.csv`` and ``figure.png``.

``EXPERIMENTS[name](out, quick=False, seeds=None) -> dict`` — ``out`` is a directory (created),
``quick`` a ≤ 1-minute single-core version, ``seeds`` overrides the number of seeds (quick: 1,
full: 3). Every λ (and pruning / truncation level) is chosen on the validation split; the test
split is only reported. Seeds vary initialisation and minibatch order; the data split is fixed
(seed 0) so that accuracies are comparable across seeds.

* ``deephoyer-digits`` — element-wise sparsity, L1 vs Hoyer vs Hoyer-square (DeepHoyer's claim:
  sparser at equal accuracy).
* ``lowrank-digits`` — per-layer spectral ratio vs nuclear norm vs none, Adam vs plain SGD.
* ``linear-endtoend`` — deep linear regression with a low-rank truth: penalty on the end-to-end
  product vs on each factor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import regularizers as rg
from ..errors import ConfigError, check_int, unknown_name
from .data import digits
from .models import apply_linear, apply_mlp, init_linear, init_mlp
from .prune import prune, truncate_rank
from .report import layer_report, markdown_table, matrix_stats, write_csv
from .train import accuracy, predict, train

TOLERANCE = 1.0  # "matched accuracy": within 1 point of the reference's validation accuracy


def _seeds(seeds: int | None, quick: bool) -> int:
    if seeds is None:
        return 1 if quick else 3
    return check_int("seeds", seeds, low=1)


def _mean(xs) -> float:
    return float(np.mean(xs))


def _std(xs) -> float:
    return float(np.std(xs))


def _write(
    out: Path, name: str, notes: str, summary_rows, sweep_rows, fig, *, quick, seeds, wall
) -> dict[str, Any]:
    """Write ``table.md``, ``table.csv``, ``figure.png`` and ``summary.json``; return the
    summary."""
    out.mkdir(parents=True, exist_ok=True)
    md = f"# {name}\n\n{notes}\n\n" + markdown_table(summary_rows)
    md += "\n## All configurations (validation selects; test only reported)\n\n"
    md += markdown_table(sweep_rows)
    (out / "table.md").write_text(md)
    write_csv(out / "table.csv", sweep_rows)
    fig.savefig(out / "figure.png", dpi=120, bbox_inches="tight")
    _plt().close(fig)
    summary = {"experiment": name, "quick": quick, "seeds": seeds, "wall_s": wall,
               "rows": summary_rows}  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    return summary


def _plt():
    from ..report.plot import pyplot

    return pyplot()  # Agg backend; a clear error without matplotlib


# ============================================================================================
# (a) element-wise sparsity


def deephoyer_digits(out: Path, quick: bool = False, seeds: int | None = None) -> dict[str, Any]:
    """L1 vs Hoyer vs Hoyer-square sparsification of a 64-256-128-10 MLP on digits.

    Protocol per seed: dense Adam training (lr 1e-3, batch 64); from the dense weights, train
    with λ·R on the three weight matrices; prune each at τ = s·std(w); masked fine-tune without
    R. For each method the selected (λ, s) is the one with the fewest non-zero weights (mean
    over seeds) whose mean validation accuracy after fine-tuning is within 1 point of the
    dense model's (matched accuracy); its test accuracy is reported.
    """
    t0 = time.perf_counter()
    out = Path(out)
    n_seeds = _seeds(seeds, quick)
    sizes = [64, 256, 128, 10]
    if quick:
        ep_dense, ep_reg, ep_ft = 30, 30, 10
        grid = {"l1": [3e-5, 3e-4], "hoyer_square": [1e-5, 1e-4]}
        sens = [0.5, 1.0]
    else:
        ep_dense, ep_reg, ep_ft = 40, 40, 20
        grid = {
            "l1": [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3],
            "hoyer": [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1],
            "hoyer_square": [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3],
        }
        sens = [0.5, 1.0, 1.5, 2.0]
    d = digits(seed=0)
    runs: dict[tuple, list[dict]] = {}
    dense = []
    for seed in range(n_seeds):
        p, _ = train(apply_mlp, init_mlp(sizes, seed), d.x_train, d.y_train, epochs=ep_dense,
                     seed=seed)  # fmt: skip
        dense.append(
            {
                "val_acc": accuracy(apply_mlp, p, d.x_val, d.y_val),
                "test_acc": accuracy(apply_mlp, p, d.x_test, d.y_test),
                "nnz": layer_report(p)[-1]["nnz"],
            }
        )
        for method, lams in grid.items():
            for lam in lams:
                reg = rg.get(method, lam=lam)
                q, _ = train(apply_mlp, p, d.x_train, d.y_train, reg=reg, epochs=ep_reg,
                             seed=1000 + seed)  # fmt: skip
                for s in sens:
                    r, mask = prune(q, sensitivity=s)
                    r, _ = train(apply_mlp, r, d.x_train, d.y_train, epochs=ep_ft, mask=mask,
                                 seed=2000 + seed)  # fmt: skip
                    rep = layer_report(r)
                    runs.setdefault((method, lam, s), []).append(
                        {
                            "val_acc": accuracy(apply_mlp, r, d.x_val, d.y_val),
                            "test_acc": accuracy(apply_mlp, r, d.x_test, d.y_test),
                            "nnz": rep[-1]["nnz"],
                            "layer_nnz": [row["nnz"] for row in rep[:-1]],
                        }
                    )
    size = layer_report(init_mlp(sizes, 0))[-1]["size"]
    dense_val = _mean([x["val_acc"] for x in dense])
    sweep = []
    for (method, lam, s), rs in runs.items():
        sweep.append(
            {
                "method": method,
                "lam": lam,
                "sensitivity": s,
                "val_acc": _mean([r["val_acc"] for r in rs]),
                "test_acc": _mean([r["test_acc"] for r in rs]),
                "nnz": _mean([r["nnz"] for r in rs]),
                "compression": size / _mean([r["nnz"] for r in rs]),
                "layer_nnz": "/".join(
                    f"{v:.0f}" for v in np.mean([r["layer_nnz"] for r in rs], axis=0)
                ),
            }
        )
    summary_rows = [
        {
            "method": "dense",
            "val_acc": dense_val,
            "test_acc": _mean([x["test_acc"] for x in dense]),
            "test_acc_std": _std([x["test_acc"] for x in dense]),
            "nnz": _mean([x["nnz"] for x in dense]),
            "compression": 1.0,
        }
    ]
    selected = {}
    for method in grid:
        ok = [
            r
            for r in sweep
            if r["method"] == method and r["val_acc"] >= dense_val - TOLERANCE / 100
        ]
        if not ok:
            summary_rows.append({"method": method, "note": "no setting within tolerance"})
            continue
        best = min(ok, key=lambda r: r["nnz"])
        best["selected"] = True
        rs = runs[(method, best["lam"], best["sensitivity"])]
        selected[method] = best
        summary_rows.append(
            {
                "method": method,
                "lam": best["lam"],
                "sensitivity": best["sensitivity"],
                "val_acc": best["val_acc"],
                "test_acc": best["test_acc"],
                "test_acc_std": _std([r["test_acc"] for r in rs]),
                "nnz": best["nnz"],
                "compression": best["compression"],
                "layer_nnz": best["layer_nnz"],
            }
        )
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    colors = {"l1": "C0", "hoyer": "C2", "hoyer_square": "C3"}
    for method in grid:
        rows = [r for r in sweep if r["method"] == method]
        axes[0].scatter(
            [r["nnz"] for r in rows], [100 * r["val_acc"] for r in rows], label=method,
            color=colors[method], alpha=0.7,
        )  # fmt: skip
        if method in selected:
            b = selected[method]
            axes[0].scatter([b["nnz"]], [100 * b["val_acc"]], marker="*", s=250,
                            color=colors[method], edgecolor="k")  # fmt: skip
    axes[0].axhline(100 * dense_val, color="k", lw=1, label="dense")
    axes[0].axhline(100 * dense_val - TOLERANCE, color="k", ls="--", lw=1, label="dense − 1 pt")
    axes[0].set_ylim(100 * dense_val - 6, 100 * dense_val + 1.5)  # worse points fall below
    axes[0].set_xscale("log")
    axes[0].set_xlabel(f"non-zero weights (of {size})")
    axes[0].set_ylabel("validation accuracy after fine-tune (%)")
    axes[0].legend(fontsize=8)
    axes[0].set_title("all (λ, s): ★ = sparsest at matched accuracy")
    width = 0.8 / max(len(selected), 1)
    layer_sizes = [a * b for a, b in zip(sizes[1:], sizes[:-1], strict=True)]
    for i, (method, b) in enumerate(selected.items()):
        dens = [float(v) / n for v, n in zip(b["layer_nnz"].split("/"), layer_sizes, strict=True)]
        axes[1].bar(np.arange(3) + i * width, dens, width, label=method, color=colors[method])
    axes[1].set_xticks(np.arange(3) + 0.4 - width / 2, ["W1 256×64", "W2 128×256", "W3 10×128"])
    axes[1].set_ylabel("density (nnz / size)")
    axes[1].set_title("per-layer density of the selected models")
    axes[1].legend(fontsize=8)
    wall = time.perf_counter() - t0
    notes = (
        f"MLP {'-'.join(map(str, sizes))} on sklearn digits (train/val/test 1077/360/360), "
        f"Adam lr 1e-3, batch 64; dense {ep_dense} epochs → regularized {ep_reg} → prune at "
        f"s·std per layer → masked fine-tune {ep_ft}. {n_seeds} seed(s), means. Matched "
        f"accuracy: validation accuracy ≥ dense − {TOLERANCE} point; selected = fewest "
        f"non-zeros among those. Wall time {wall:.0f} s."
    )
    return _write(
        out,
        "deephoyer-digits",
        notes,
        summary_rows,
        sweep,
        fig,
        quick=quick,
        seeds=n_seeds,
        wall=wall,
    )


# ============================================================================================
# (b) low rank


HIDDEN = r"^\[[01]\]\['w'\]"  # the two hidden weight matrices of a 3-layer MLP


def _compress_by_truncation(params, d, base_val: float, taus) -> dict[str, Any]:
    """Largest τ whose SVD truncation of the hidden weight matrices (σ > τ·σ_1, no fine-tune)
    keeps val acc ≥ base − 1 pt; compression of those matrices Σ mn / Σ min(r(m + n), mn)."""
    best = {"tau": 0.0, "trunc_val_acc": base_val, "trunc_test_acc": None, "ranks": None}
    hidden = rg.L1(select=HIDDEN).selected(params)
    sizes = [int(np.prod(w.shape)) for _, w in hidden]
    best["compression"] = 1.0
    for tau in taus:
        r, ranks = truncate_rank(params, tol=tau, select=HIDDEN)
        acc = accuracy(apply_mlp, r, d.x_val, d.y_val)
        if acc >= base_val - TOLERANCE / 100:
            shapes = [w.shape for _, w in hidden]
            lr = sum(min(k * (m + n), m * n) for k, (m, n) in zip(ranks.values(), shapes,
                                                                   strict=True))  # fmt: skip
            best = {
                "tau": tau,
                "trunc_val_acc": acc,
                "trunc_test_acc": accuracy(apply_mlp, r, d.x_test, d.y_test),
                "ranks": "/".join(map(str, ranks.values())),
                "compression": sum(sizes) / lr,
            }
    if best["trunc_test_acc"] is None:
        best["trunc_test_acc"] = accuracy(apply_mlp, params, d.x_test, d.y_test)
        best["ranks"] = "/".join(str(min(w.shape)) for _, w in hidden)
    return best


def lowrank_digits(out: Path, quick: bool = False, seeds: int | None = None) -> dict[str, Any]:
    """Per-layer spectral ratio vs nuclear norm vs none on a 64-128-128-10 MLP, Adam vs SGD.

    From scratch with Adam (lr 3e-3) or plain SGD (lr 0.1), batch 128. The penalty is on the two
    hidden weight matrices W1 (128×64), W2 (128×128); the 10×128 classifier is left alone (a
    scale-invariant penalty on it collapses its rank below the 10 classes and costs accuracy).
    After training, each hidden weight matrix is truncated to σ_i > τ·σ_1 with the largest τ
    (no fine-tune) that keeps the validation accuracy within 1 point of the untruncated
    model's: compression = Σ mn / Σ min(r(m + n), mn) over W1, W2. Per (penalty, optimizer)
    the selected λ maximizes that compression among the λ whose validation accuracy is within
    1 point of the unregularized model's (same optimizer). Also reported: effective rank
    exp(H(σ/Σσ)) and rank@1e-2 per layer.
    """
    t0 = time.perf_counter()
    out = Path(out)
    n_seeds = _seeds(seeds, quick)
    sizes = [64, 128, 128, 10]
    opts = {"adam": 3e-3, "sgd": 1e-1}
    batch = 128
    if quick:
        epochs = 25
        grid = {"none": [0.0], "ratio": [0.1, 0.3], "nuclear": [3e-3, 1e-2]}
        taus = [0.05, 0.1, 0.2]
    else:
        epochs = 80
        grid = {
            "none": [0.0],
            "ratio": [0.03, 0.1, 0.3, 1.0],
            "nuclear": [1e-3, 3e-3, 1e-2, 3e-2],
        }
        taus = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4]
    d = digits(seed=0)
    runs: dict[tuple, list[dict]] = {}
    models: dict[tuple, Any] = {}
    for seed in range(n_seeds):
        p0 = init_mlp(sizes, seed)
        for opt, lr in opts.items():
            for pen, lams in grid.items():
                for lam in lams:
                    reg = None if pen == "none" else rg.get(pen, lam=lam, select=HIDDEN)
                    p, _ = train(apply_mlp, p0, d.x_train, d.y_train, reg=reg, optimizer=opt,
                                 lr=lr, epochs=epochs, batch_size=batch, seed=seed)  # fmt: skip
                    rep = layer_report(p)[:-1]
                    runs.setdefault((opt, pen, lam), []).append(
                        {
                            "val_acc": accuracy(apply_mlp, p, d.x_val, d.y_val),
                            "test_acc": accuracy(apply_mlp, p, d.x_test, d.y_test),
                            "erank": [r["effective_rank"] for r in rep],
                            "rank": [r["rank"] for r in rep],
                            "params": p,
                        }
                    )
                    if seed == 0:
                        models[(opt, pen, lam)] = p
    sweep = []
    for (opt, pen, lam), rs in runs.items():
        comp = [_compress_by_truncation(r["params"], d, r["val_acc"], taus) for r in rs]
        er = np.mean([r["erank"] for r in rs], axis=0)
        rk = np.mean([r["rank"] for r in rs], axis=0)
        sweep.append(
            {
                "optimizer": opt,
                "penalty": pen,
                "lam": lam,
                "val_acc": _mean([r["val_acc"] for r in rs]),
                "test_acc": _mean([r["test_acc"] for r in rs]),
                "erank": "/".join(f"{v:.1f}" for v in er),
                "erank_sum12": float(er[0] + er[1]),
                "rank@1e-2": "/".join(f"{v:.0f}" for v in rk),
                "trunc_ranks": comp[0]["ranks"],
                "trunc_val_acc": _mean([c["trunc_val_acc"] for c in comp]),
                "trunc_test_acc": _mean([c["trunc_test_acc"] for c in comp]),
                "compression": _mean([c["compression"] for c in comp]),
            }
        )
    summary_rows = []
    for opt in opts:
        base = next(r for r in sweep if r["optimizer"] == opt and r["penalty"] == "none")
        base["selected"] = True
        summary_rows.append({k: base[k] for k in base if k != "selected"})
        for pen in grid:
            if pen == "none":
                continue
            ok = [
                r for r in sweep
                if r["optimizer"] == opt and r["penalty"] == pen
                and r["val_acc"] >= base["val_acc"] - TOLERANCE / 100
            ]  # fmt: skip
            if not ok:
                summary_rows.append({"optimizer": opt, "penalty": pen, "lam": "none in tol."})
                continue
            best = max(ok, key=lambda r: (r["compression"], -r["erank_sum12"]))
            best["selected"] = True
            summary_rows.append({k: best[k] for k in best if k != "selected"})
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, opt in enumerate(opts):
        for pen, ls in (("none", "-"), ("ratio", "--"), ("nuclear", ":")):
            sel = next(
                (r for r in sweep if r["optimizer"] == opt and r["penalty"] == pen
                 and r.get("selected")), None,
            )  # fmt: skip
            if sel is None:
                continue
            W = models[(opt, pen, sel["lam"])][1]["w"]
            s = np.linalg.svd(np.asarray(W, np.float64), compute_uv=False)
            axes[0].semilogy(s / s[0], ls, color=f"C{i}", label=f"{opt} {pen} λ={sel['lam']:g}")
        rows = [r for r in sweep if r["optimizer"] == opt]
        for pen, mk in (("none", "o"), ("ratio", "s"), ("nuclear", "^")):
            rr = [r for r in rows if r["penalty"] == pen]
            axes[1].scatter([r["compression"] for r in rr], [100 * r["val_acc"] for r in rr],
                            marker=mk, color=f"C{i}", label=f"{opt} {pen}")  # fmt: skip
    axes[0].set_xlabel("index i")
    axes[0].set_ylabel("σ_i / σ_1 of W2 (128×128), seed 0")
    axes[0].legend(fontsize=7)
    axes[0].set_title("hidden-layer spectrum of the selected models")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("compression by SVD truncation (within 1 pt val)")
    axes[1].set_ylabel("validation accuracy (%)")
    axes[1].legend(fontsize=7)
    wall = time.perf_counter() - t0
    notes = (
        f"MLP {'-'.join(map(str, sizes))} on sklearn digits, from scratch, {epochs} epochs, "
        f"batch {batch}; Adam lr 3e-3 / plain SGD lr 0.1; penalty on the hidden matrices W1, W2 "
        f"(sum), not the classifier. erank = effective rank per layer (W1/W2/W3); rank@1e-2 = "
        f"#σ > 1e-2·σ_1; compression of W1, W2 from SVD truncation at the largest τ in "
        f"{taus} that keeps val acc within 1 pt (no fine-tune). λ selected: max compression "
        f"with val acc ≥ unregularized (same "
        f"optimizer) − {TOLERANCE} pt. {n_seeds} seed(s). Wall time {wall:.0f} s."
    )
    return _write(
        out,
        "lowrank-digits",
        notes,
        summary_rows,
        sweep,
        fig,
        quick=quick,
        seeds=n_seeds,
        wall=wall,
    )


# ============================================================================================
# (c) deep linear network, end-to-end vs per-factor


def _linear_problem(seed: int, d: int, rank: int, n_train: int, noise: float):
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((d, rank)))[0]
    V = np.linalg.qr(rng.standard_normal((d, rank)))[0]
    W = U @ V.T * np.sqrt(d / rank)  # ‖W*‖_F² = d: unit output variance for x ~ N(0, I)

    def sample(n):
        x = rng.standard_normal((n, d))
        return x.astype(np.float32), (x @ W.T + noise * rng.standard_normal((n, d))).astype(
            np.float32
        )

    return W, sample(n_train), sample(200), sample(2000)


def linear_endtoend(out: Path, quick: bool = False, seeds: int | None = None) -> dict[str, Any]:
    """Deep linear regression y = W* x + noise, W* 20×20 of rank 2, 40 training pairs.

    Depth-3 linear network (20-20-20-20, standard 1/√fan-in init), full-batch Adam (lr 3e-3);
    penalties: none; ratio / nuclear on the end-to-end product W3W2W1 (``EndToEnd``); ratio /
    nuclear on each factor (sum). λ selected by validation MSE (200 pairs); reported: relative
    error ‖W − W*‖_F/‖W*‖_F, test MSE (2000 pairs; noise floor = d·noise²), rank@1e-2 and
    effective rank of W, mean effective rank of the factors.
    """
    t0 = time.perf_counter()
    out = Path(out)
    n_seeds = _seeds(seeds, quick)
    d, rank, n_train, noise, depth = 20, 2, 40, 0.5, 3
    steps = 1500 if quick else 5000
    grid = {
        "none": [0.0],
        "ratio e2e": [0.3, 3.0, 30.0] if quick else [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0],
        "ratio factors": [0.3, 3.0, 30.0] if quick else [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0],
        "nuclear e2e": [0.1, 1.0] if quick else [0.03, 0.1, 0.3, 1.0, 3.0],
        "nuclear factors": [0.1, 1.0] if quick else [0.03, 0.1, 0.3, 1.0, 3.0],
    }
    runs: dict[tuple, list[dict]] = {}
    spectra: dict[tuple, np.ndarray] = {}
    for seed in range(n_seeds):
        Wstar, (xt, yt), (xv, yv), (xs, ys) = _linear_problem(seed, d, rank, n_train, noise)
        p0 = init_linear([d] * (depth + 1), seed=seed)
        for method, lams in grid.items():
            for lam in lams:
                if method == "none":
                    reg = None
                else:
                    kind, where = method.split()
                    reg = (
                        rg.EndToEnd(lam=lam, kind=kind) if where == "e2e" else rg.get(kind, lam=lam)
                    )
                p, _ = train(apply_linear, p0, xt, yt, reg=reg, loss="mse", lr=3e-3,
                             epochs=steps, batch_size=n_train, seed=seed)  # fmt: skip
                W = np.asarray(rg.EndToEnd().product(p), np.float64)
                st = matrix_stats(W)

                def mse(x, y, p=p):
                    return float(np.mean(np.sum((predict(apply_linear, p, x) - y) ** 2, -1)))

                runs.setdefault((method, lam), []).append(
                    {
                        "val_mse": mse(xv, yv),
                        "test_mse": mse(xs, ys),
                        "rel_err": float(np.linalg.norm(W - Wstar) / np.linalg.norm(Wstar)),
                        "rank": st["rank"],
                        "erank": st["effective_rank"],
                        "factor_erank": _mean(
                            [matrix_stats(np.asarray(f["w"]))["effective_rank"] for f in p]
                        ),
                    }
                )
                if seed == 0:
                    spectra[(method, lam)] = np.linalg.svd(W, compute_uv=False)
    sweep = []
    for (method, lam), rs in runs.items():
        row = {"method": method, "lam": lam}
        for k in ("val_mse", "test_mse", "rel_err", "rank", "erank", "factor_erank"):
            row[k] = _mean([r[k] for r in rs])
        row["rel_err_std"] = _std([r["rel_err"] for r in rs])
        sweep.append(row)
    summary_rows = []
    for method in grid:
        best = min((r for r in sweep if r["method"] == method), key=lambda r: r["val_mse"])
        best["selected"] = True
        summary_rows.append({k: v for k, v in best.items() if k != "selected"})
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, r in enumerate(summary_rows):
        s = spectra[(r["method"], r["lam"])]
        axes[0].semilogy(np.arange(1, d + 1), s, "o-", ms=3, color=f"C{i}",
                         label=f"{r['method']} λ={r['lam']:g}")  # fmt: skip
    axes[0].set_xlabel("i")
    axes[0].set_ylabel("σ_i of W3W2W1 (seed 0)")
    axes[0].set_title(f"true rank {rank}")
    axes[0].legend(fontsize=7)
    for i, method in enumerate(grid):
        rr = [r for r in sweep if r["method"] == method]
        if method == "none":
            axes[1].axhline(rr[0]["rel_err"], color=f"C{i}", label="none")
        else:
            axes[1].semilogx([r["lam"] for r in rr], [r["rel_err"] for r in rr], "o-",
                             color=f"C{i}", label=method)  # fmt: skip
    axes[1].set_xlabel("λ")
    axes[1].set_ylabel("‖W − W*‖_F / ‖W*‖_F")
    axes[1].legend(fontsize=7)
    wall = time.perf_counter() - t0
    notes = (
        f"y = W*x + {noise}·noise, W* {d}×{d} rank {rank}, {n_train} training / 200 validation "
        f"/ 2000 test pairs, x ~ N(0, I). Depth-{depth} linear network, full-batch Adam lr "
        f"3e-3, {steps} steps. λ selected per method by validation MSE. rank@1e-2 and erank "
        f"of the end-to-end W; factor_erank = mean effective rank of the factors. Test-MSE "
        f"noise floor {d * noise**2:.1f}. {n_seeds} seed(s), means. Wall time {wall:.0f} s."
    )
    return _write(
        out,
        "linear-endtoend",
        notes,
        summary_rows,
        sweep,
        fig,
        quick=quick,
        seeds=n_seeds,
        wall=wall,
    )


EXPERIMENTS: dict[str, Callable[..., dict[str, Any]]] = {
    "deephoyer-digits": deephoyer_digits,
    "lowrank-digits": lowrank_digits,
    "linear-endtoend": linear_endtoend,
}


# what the literature says, quoted in the generated results page
CLAIMS = {
    "deephoyer-digits": "Yang, Wen & Li (ICLR 2020), DeepHoyer: the Hoyer-square penalty "
    "(‖w‖₁/‖w‖₂)² gives sparser networks than L1 at equal accuracy.",
    "lowrank-digits": "Zhao (2022), matrix case: the scale-invariant ratio ‖W‖_*/‖W‖_F lowers "
    "rank with Adam but does nothing with plain GD; whether a per-layer version carries over "
    "to ordinary networks is the penalty's open question.",
    "linear-endtoend": "Zhao (2022) research notes: for a deep linear network the penalty "
    "belongs on the end-to-end product; a penalty on each factor is the 'crude' option.",
}


def run(name: str, out: Path, quick: bool = False, seeds: int | None = None) -> dict[str, Any]:
    """Run the preset ``name`` (a key of :data:`EXPERIMENTS`) into directory ``out``."""
    if name not in EXPERIMENTS:
        raise unknown_name("experiment", name, EXPERIMENTS)
    if not isinstance(quick, bool):
        raise ConfigError(f"quick must be True or False, got {quick!r}")
    return EXPERIMENTS[name](Path(out), quick=quick, seeds=seeds)
