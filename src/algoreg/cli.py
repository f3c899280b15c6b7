"""The ``algoreg`` command line.

    algoreg run STUDY.toml [--out DIR] [--jobs N] [--set KEY=VALUE ...] [--only KEY=VALUE ...]
                [--dry-run]
    algoreg status DIR
    algoreg results DIR [--format table|csv|json]
    algoreg plot DIR [--x problem.n_obs] [--y test_error] [--hue method]
    algoreg export DIR [--parquet FILE] [--archive FILE.jsonl.gz]
    algoreg merge SRC [SRC ...] --into DIR
    algoreg report DIR [DIR ...] [--out docs/results.md]
    algoreg bench [--quick] [--sizes 100x100 943x1682] [--penalties none svd subspace ...]
    algoreg reproduce NAME [--quick] [--data DIR] [--out DIR] [--jobs N] | --list
    algoreg cluster FILE.csv [--labels FILE] [--names FILE] [--n-clusters K]
                    [--method carp|carp-viz|exact] [--t T] [--out DIR]
                    [--bicluster [--n-col-clusters K]]

Wherever a study directory DIR is read (status, results, plot, report, merge's sources), an
archive FILE.jsonl.gz written by ``export --archive`` may stand in its place.

Invalid input (a flag, a study file, a path of the wrong kind) prints one ``algoreg: error:
...`` line and exits with status 2; a file that cannot be read or written, or a run whose every
trial failed, exits with status 1 after such a line. SIGTERM (a
batch scheduler's time limit, ``kill``) is handled as Ctrl-C: finished trials stay stored,
trials in flight are stopped with their workers, and rerunning the command resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

from .errors import ConfigError


class _Parser(argparse.ArgumentParser):
    """Usage errors end, like every other error, in one ``algoreg: error: …`` line (exit 2),
    naming the subcommand and the flag."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        where = self.prog.removeprefix("algoreg").strip()
        self.exit(2, f"algoreg: error: {where + ': ' if where else ''}{message}\n")


def _positive_int(text: str) -> int:
    """An argument that must be an integer >= 1 (``--jobs``, ``--batch-size``, …)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (>= 1), got {value}")
    return value


def _matrix_size(text: str) -> tuple[int, int]:
    """A ``--sizes`` item: MxN with positive integers, e.g. 100x100."""
    m, sep, n = text.lower().partition("x")
    try:
        size = (int(m), int(n))
    except ValueError:
        size = None
    if not sep or size is None or min(size) < 1:
        raise argparse.ArgumentTypeError(
            f"takes MxN items with positive integers such as 100x100, got {text!r}"
        )
    return size


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="algoreg",
        description="Implicit and explicit regularization in low-rank recovery.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def executor_args(p):
        p.add_argument("--out", type=Path, help="study directory (default: runs/NAME)")
        p.add_argument(
            "--jobs",
            type=_positive_int,
            default=None,
            help="worker processes (default: all cores; 1 = in-process)",
        )
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a study value, e.g. train.max_steps=5000 or grid.model.depth=[1,2]",
        )
        p.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="run only the trials whose config has this value (or one of a list), e.g. "
            "problem.n_obs=[4000,5000] or seed=0; the rest stay pending in the same store",
        )
        p.add_argument(
            "--data",
            type=Path,
            help="data folder for a ratings study (sets problem.path), e.g. ./ml-100k",
        )
        p.add_argument("--scheduler", help="Dask scheduler address (tcp://HOST:PORT)")
        p.add_argument(
            "--batch-size",
            type=_positive_int,
            default=None,
            help="trials per engine batch (default: 1 on CPU, 64 on a GPU)",
        )
        p.add_argument(
            "--max-trials",
            type=_positive_int,
            default=None,
            help="refuse a study of more trials than this (default: 10,000)",
        )
        p.add_argument("--retry-failed", action="store_true", help="rerun trials that failed")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")

    run = sub.add_parser("run", help="run (or resume) a study file")
    run.add_argument("study", type=Path)
    run.add_argument("--dry-run", action="store_true", help="list the expanded trials and exit")
    run.add_argument("--quick", action="store_true", help="apply the file's [quick] overrides")
    executor_args(run)

    status = sub.add_parser("status", help="done / failed / pending trials of a study directory")
    status.add_argument("dir", type=Path)

    results = sub.add_parser("results", help="one row per trial: config fields and metrics")
    results.add_argument("dir", type=Path)
    results.add_argument("--format", choices=("table", "csv", "json"), default="table")
    results.add_argument(
        "--columns", nargs="*", help="columns to show, space- or comma-separated (default: all)"
    )

    plot = sub.add_parser("plot", help="paper-style figure (PNG + PDF) of a study")
    plot.add_argument("dir", type=Path)
    own = "; with none of --x, --y, --hue: the study's own figure, as reproduce and report draw it"
    plot.add_argument("--x", help=f"x column (default problem.n_obs{own})")
    plot.add_argument("--y", help="y column, mean ± sd over seeds (default test_error)")
    plot.add_argument("--hue", help="one line per value of this column (default method)")
    plot.add_argument("--out", type=Path, help="figure path without suffix (default: DIR/figure)")

    export = sub.add_parser(
        "export", help="export results: a Parquet table, or an archive (the store as one file)"
    )
    export.add_argument("dir", type=Path)
    export.add_argument("--parquet", type=Path, help="one row per trial (needs pandas, pyarrow)")
    export.add_argument(
        "--archive",
        type=Path,
        help="FILE.jsonl.gz: trials, histories and study, read back wherever a DIR is read",
    )
    for p in (results, plot, export):
        p.add_argument(
            "--all", action="store_true", help="also trials stored from an earlier form of the grid"
        )

    merge = sub.add_parser(
        "merge", help="copy trials from other study directories (shards of a study run apart)"
    )
    merge.add_argument("sources", type=Path, nargs="+")
    merge.add_argument("--into", type=Path, required=True, help="the study directory to fill")
    merge.add_argument(
        "--all", action="store_true", help="also trials outside the study that DIR holds"
    )

    report = sub.add_parser("report", help="write docs/results.md from study directories")
    report.add_argument("dirs", type=Path, nargs="+")
    report.add_argument(
        "--out", type=Path, default=None, help="the Markdown page (default: docs/results.md)"
    )
    report.add_argument(
        "--html",
        type=Path,
        default=None,
        help="the interactive page, one self-contained HTML file (needs algoreg[report]);"
        " given alone, no Markdown is written",
    )

    rep = sub.add_parser("reproduce", help="run a preset study and write its table and figure")
    rep.add_argument("name", nargs="?")
    rep.add_argument("--list", action="store_true", help="list the presets")
    rep.add_argument(
        "--quick", action="store_true", help="the small version (about a minute; movielens longer)"
    )
    executor_args(rep)
    cluster = sub.add_parser(
        "cluster",
        help="convex clustering path of a CSV's rows (or biclustering of its rows and columns): "
        "labels, dendrograms, path figure, heat map, dynamic path view (path.html)",
    )
    cluster.add_argument("file", type=Path, help="numeric CSV with a header line, one row each")
    cluster.add_argument("--labels", type=Path, help="CSV of known labels (one column): ARI")
    cluster.add_argument("--names", type=Path, help="CSV of row names (one column): leaves")
    cluster.add_argument(
        "--n-clusters",
        type=_positive_int,
        default=None,
        help="clusters of the cut (default: 2, or as many as --labels has classes)",
    )
    cluster.add_argument(
        "--method",
        choices=("carp", "carp-viz", "exact", "cbass"),
        default="carp",
        help="carp (with --bicluster: cbass), carp-viz, or exact",
    )
    cluster.add_argument(
        "--t", type=float, default=None, help="γ ← t·γ between levels (> 1; 1.05, bicluster 1.01)"
    )
    cluster.add_argument(
        "--bicluster",
        action="store_true",
        help="CBASS: cluster rows and columns at once (NaN/empty cells are imputed)",
    )
    cluster.add_argument(
        "--n-col-clusters",
        type=_positive_int,
        default=2,
        help="with --bicluster: column clusters of the cut (default 2)",
    )
    cluster.add_argument("--scale", action="store_true", help="scale columns to unit variance")
    cluster.add_argument("--out", type=Path, help="output folder (default: runs/cluster-STEM)")

    bench = sub.add_parser("bench", help="engine throughput table (steps/s vs the FLOP floor)")
    bench.add_argument("--quick", action="store_true", help="100x100 only (about a minute)")
    bench.add_argument(
        "--sizes", type=_matrix_size, nargs="*", default=None, help="e.g. 100x100 943x1682"
    )
    bench.add_argument("--depths", type=_positive_int, nargs="*", default=None)
    bench.add_argument("--optimizers", nargs="*", default=None, choices=("gd", "adam"))
    bench.add_argument(
        "--penalties", nargs="*", default=None, help="none svd subspace newton_schulz gram"
    )
    bench.add_argument("--batches", type=_positive_int, nargs="*", default=None)
    bench.add_argument("--iterations", type=_positive_int, default=8, help="Newton–Schulz steps")
    bench.add_argument("--rank", type=_positive_int, default=16, help="the subspace method's rank")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (already printed, status 2) or --help (0)
        return exc.code if isinstance(exc.code, int) else 2
    from .studies.executors import WorkerLost, pin_threads

    pin_threads()  # before NumPy/JAX load in this process
    previous = _sigterm_as_interrupt()
    try:
        code = COMMANDS[args.command](args)
        if sys.stdout is not None:  # None when started with stdout closed (`>&-`)
            sys.stdout.flush()  # here, not at exit: a closed pipe is then caught below
        return code
    except ConfigError as exc:
        print(f"algoreg: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("algoreg: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except WorkerLost as exc:
        print(f"algoreg: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # stdout piped into a reader that stopped early (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 141  # as a shell reports a SIGPIPE death
    except OSError as exc:  # a file the command reads or writes: missing, read-only, full…
        where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f)
        print(f"algoreg: error: {where or 'I/O'}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:  # a store that changed or broke while being read or written
        print(f"algoreg: error: results database: {exc}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _output_file(path: Path, flag: str) -> Path:
    """Check that ``path`` can be written as a file (given by ``flag``): not a directory, and
    no file where one of its parent directories must be."""
    if path.is_dir():
        raise ConfigError(f"{flag} {path}: is a directory; give the path of a file to write")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{flag} {path}: {parent} is a file, not a directory")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise ConfigError(f"{flag} {path}: cannot write in {parent}")
            break
    return path


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _sigterm_as_interrupt():
    """Have SIGTERM raise KeyboardInterrupt, as SIGINT does; return the handler it replaced
    (None where none can be set: off the main thread)."""
    try:
        return signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:
        return None


def _load(args, path: Path):
    from .studies import load_study

    overrides = list(args.overrides)
    if getattr(args, "data", None) is not None:
        overrides.append("problem.path=" + json.dumps(str(args.data)))
    return load_study(
        path,
        overrides=overrides,
        quick=getattr(args, "quick", False),
        max_trials=_max_trials(args),
    )


def _only(args) -> list:
    from .studies import parse_override

    return [parse_override(item, "--only") for item in args.only]


def _max_trials(args) -> int:
    from .studies.config import MAX_TRIALS

    return args.max_trials or MAX_TRIALS


def _run_loaded(args, study) -> tuple[int, Path]:
    from .studies import run_study

    out = args.out or Path("runs") / study.name
    summary = run_study(
        study,
        out,
        jobs=args.jobs,
        scheduler=args.scheduler,
        batch_size=args.batch_size,
        retry_failed=args.retry_failed,
        progress=False if args.no_progress else None,
        only=_only(args),
        max_trials=_max_trials(args),
    )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
    later = f", {summary.deferred} left for later by --only" if summary.deferred else ""
    print(
        f"{study.name}: {summary.total} trials, {summary.skipped} already stored, "
        f"{summary.ran} run now in {summary.seconds:.1f}s ({counts}){later} -> {out}"
    )
    if summary.interrupted:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130, out
    if summary.failed:
        first = summary.first_error or ""
        every = summary.failed == summary.ran
        print(
            f"algoreg: {'error' if every else 'warning'}: {summary.failed} of the "
            f"{summary.ran} trials run now failed; the first, {first.splitlines()[0]}\n"
            f"  every failure's reason: algoreg results {out} --columns trial_id,status,error"
            + ("" if every else "; rerun them with --retry-failed"),
            file=sys.stderr,
        )
        if every:
            return 1, out
    return 0, out


def cmd_run(args) -> int:
    study = _load(args, args.study)
    if args.dry_run:
        from .report import flatten
        from .studies import expand
        from .studies.grid import select

        trials = expand(study, max_trials=_max_trials(args))
        chosen = select(trials, _only(args))
        picked = f", {len(chosen)} chosen by --only" if args.only else ""
        print(f"{study.name}: {len(trials)} trials{picked}")
        for t in chosen:
            fields = " ".join(f"{k}={v}" for k, v in flatten(t.config).items())
            print(f"{t.trial_id}  {fields}")
        return 0
    return _run_loaded(args, study)[0]


def _store(path: Path):
    from .studies import Store

    return Store(path, create=False)


def _require_results(path: Path) -> None:
    """A clear error for a path without study results, before any work; an archive is only
    checked to exist (the reader that reads it once has errors as specific)."""
    from .studies.archive import is_archive, require_archive

    if is_archive(path):
        require_archive(path)
    else:
        _store(path).close()


def cmd_status(args) -> int:
    from collections import Counter

    from .report import trial_time
    from .studies.archive import archive_stem

    with _store(args.dir) as store:
        ids = store.study_ids() or sorted(store.finished_ids())
        counts = store.counts(ids)
        others = sum(store.counts().values()) - sum(counts.values())  # from an earlier grid
        name = (store.meta("study") or {}).get("name", archive_stem(args.dir).name)
        trials = store.trials(ids)
        spent = trial_time(trials)
    builds = Counter(t["version"] for t in trials if t["version"])
    done = sum(v for k, v in counts.items() if k != "failed")
    detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(
        f"{name}: {len(ids)} trials: done {done}, failed {counts.get('failed', 0)}, "
        f"pending {len(ids) - sum(counts.values())}"
        + (f" ({detail})" if detail else "")
        + (f"; trial time summed: {spent}" if counts else "")
        + (f"; {others} more stored that are not in the study's grid now" if others else "")
    )
    for build, n in builds.most_common():  # more than one: the numbers may not be comparable
        print(f"  ran with {build}: {n} trials")
    return 0


def _rows(directory: Path, every: bool = False):
    """Result rows of the study's trials (with ``every``: of all the trials stored)."""
    from .report import result_rows

    with _store(directory) as store:
        ids = None if every else store.study_ids()
        return result_rows(store.trials(ids))


def cmd_results(args) -> int:
    from .report import format_rows

    rows = _rows(args.dir, args.all)
    columns = [c for item in args.columns or () for c in item.split(",") if c]
    known = {k for r in rows for k in r}
    unknown = [c for c in columns if c not in known]
    if rows and unknown:
        from .errors import did_you_mean

        raise ConfigError(
            f"--columns: unknown column {unknown[0]!r}"
            + did_you_mean(unknown[0], sorted(known))
            + f" (columns: {', '.join(sorted(known))})"
        )
    columns = list(dict.fromkeys(columns))  # each once
    print(format_rows(rows, args.format, columns or None))
    return 0


def cmd_plot(args) -> int:
    from .report import load_report, plot_summary, write_figure
    from .studies.archive import archive_stem

    out = _output_file(args.out or _figure_path(args.dir), "--out")
    if args.x is args.y is args.hue is None and not args.all:  # the study's [report] figure
        _require_results(args.dir)
        with load_report(args.dir) as report:
            if not report.rows:
                raise ConfigError(f"{args.dir}: no finished trials to plot")
            print("wrote " + ", ".join(map(str, write_figure(report, out))))
        return 0
    rows = _rows(args.dir, args.all)
    if not rows:
        raise ConfigError(f"{args.dir}: no finished trials to plot")
    x, y, hue = args.x or "problem.n_obs", args.y or "test_error", args.hue or "method"
    for key in (x, y, hue):
        if key not in rows[0]:
            raise ConfigError(f"unknown column {key!r}; available: {', '.join(rows[0])}")
    paths = plot_summary(
        rows,
        out,
        x=x,
        y=y,
        hue=hue,
        title=archive_stem(args.dir).name,
    )
    print("wrote " + ", ".join(map(str, paths)))
    return 0


def _figure_path(source: Path) -> Path:
    """Default figure path: DIR/figure, or results/NAME for an archive results/NAME.jsonl.gz."""
    from .studies.archive import archive_stem, is_archive

    return archive_stem(source) if is_archive(source) else source / "figure"


def cmd_export(args) -> int:
    if args.parquet is None and args.archive is None:
        raise ConfigError("export needs --parquet FILE (a flat table), --archive FILE, or both")
    for flag, path in (("--archive", args.archive), ("--parquet", args.parquet)):
        if path is not None:
            _output_file(path, flag)
    if args.archive is not None:
        with _store(args.dir) as store:
            n = store.dump(args.archive, None if args.all else store.study_ids())
        print(f"wrote {n} trials with their histories to {args.archive}")
    if args.parquet is not None:
        try:
            import pandas as pd
        except ImportError:
            raise ConfigError(
                "export --parquet needs pandas and pyarrow: pip install 'algoreg[parquet]'"
            ) from None
        rows = _rows(args.dir, args.all)
        pd.DataFrame(rows).to_parquet(args.parquet, index=False)
        print(f"wrote {len(rows)} trials to {args.parquet}")
    return 0


def cmd_merge(args) -> int:
    from contextlib import ExitStack

    from .studies import Store
    from .studies.lock import writer_lock
    from .studies.store import prepare_directory

    into = args.into.resolve()
    with ExitStack() as stack:
        sources = []
        for src in args.sources:  # every source is checked before anything is written
            if src.resolve() == into:
                raise ConfigError(f"{src}: cannot merge a study directory into itself")
            sources.append(stack.enter_context(_store(src)))
        _one_study(list(zip(args.sources, sources, strict=True)), args.all)
        prepare_directory(into)
        stack.enter_context(writer_lock(into, "merge"))
        store = stack.enter_context(Store(into))
        ids = None if args.all else store.study_ids()  # None: DIR holds no study yet
        _one_study([(args.into, store), *zip(args.sources, sources, strict=True)], args.all)
        for src, source in zip(args.sources, sources, strict=True):
            m = store.merge(source, ids)
            print(
                f"{src}: {m.added} trials added, {m.replaced} failed ones replaced, "
                f"{m.kept} already in {args.into}"
            )
            if m.differ:
                print(
                    f"algoreg: warning: {len(m.differ)} trials of {src} have other metrics "
                    f"than the same trials in {args.into} (kept those), e.g. {m.differ[0]}",
                    file=sys.stderr,
                )
    return 0


def _one_study(stores: list, every: bool) -> None:
    """Refuse to merge stores of differently named studies (unless ``every``: --all)."""
    held = [(where, name) for where, st in stores if (name := (st.meta("study") or {}).get("name"))]
    if len({name for _, name in held}) > 1 and not every:
        said = ", ".join(f"{where} holds {name!r}" for where, name in held)
        raise ConfigError(f"merge joins shards of one study, but {said} (--all: merge anyway)")


def cmd_report(args) -> int:
    from .report import write_results

    markdown = args.out if args.out or args.html else Path("docs/results.md")
    if markdown:
        _output_file(markdown, "--out")
    if args.html:
        _output_file(args.html, "--html")
        from .report.html import plotly_js

        plotly_js()  # the missing extra is an error before any work
    for d in args.dirs:
        _require_results(d)
    if markdown:
        print(f"wrote {write_results(args.dirs, markdown)}")
    if args.html:
        from .report.html import write_html

        print(f"wrote {write_html(args.dirs, args.html)}")
    return 0


def cmd_reproduce(args) -> int:
    from .studies import PRESETS, preset_path

    if args.list and args.name is not None:
        raise ConfigError(f"reproduce: give a preset NAME or --list, not both (got {args.name!r})")
    if args.list or args.name is None:
        for name in PRESETS:
            print(name)
        return 0
    study = _load(args, preset_path(args.name))
    code, out = _run_loaded(args, study)
    from .report import format_rows, load_report, write_figure

    with load_report(out) as report:
        if report.rows:
            (out / "summary.csv").write_text(format_rows(report.table, "csv", report.columns))
            print(report.note)
            print(format_rows(report.table, columns=report.columns))
            for check in report.checks:
                print(f"check: {check.line()}")
            paths = write_figure(report, out / "figure")
            print("wrote " + ", ".join(map(str, [out / "summary.csv", *paths])))
            _reproduce_pages(report, out)
    return code


def _reproduce_pages(report, out: Path) -> None:
    """``report.md`` (the study's section of the results page) and ``report.html`` beside
    it; without the ``report`` extra the HTML page is skipped, saying why."""
    from .report.markdown import study_markdown

    written = [study_markdown(report, out)]
    try:
        from .report.html import write_study_html

        written.append(write_study_html(report, out, out / "report.html"))
    except ConfigError as exc:
        print(f"report.html not written: {exc}", file=sys.stderr)
    print("wrote " + ", ".join(map(str, written)))


def cmd_cluster(args) -> int:
    try:
        return _cluster(args)
    except ConfigError as exc:
        raise ConfigError(f"cluster: {exc}") from None


def _cluster(args) -> int:
    import numpy as np

    from .clustering import ConvexClustering, read_csv
    from .clustering.datasets import adjusted_rand_index, read_labels
    from .clustering.figures import dendrogram_figure, path_figure
    from .clustering.pathview import path_view_html

    def given(path: Path, flag: str) -> Path:
        if not path.is_file():
            raise ConfigError(f"{flag}{path}: no such file")
        return path

    X, header = read_csv(given(args.file, ""))
    truth = read_labels(given(args.labels, "--labels ")) if args.labels else None
    names = [str(n) for n in read_labels(given(args.names, "--names "))] if args.names else None
    for what, column in (("--labels", truth), ("--names", names)):
        if column is not None and len(column) != len(X):
            raise ConfigError(f"{what} has {len(column)} rows, {args.file} has {len(X)}")
    k = args.n_clusters or (len(np.unique(truth)) if truth is not None else 2)
    out = args.out or Path("runs") / f"cluster-{args.file.stem}"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: is a file, not a folder")
    if args.bicluster:
        return _bicluster(args, X, header, truth, names, k, out)
    if args.method == "cbass":
        raise ConfigError("--method cbass biclusters: add --bicluster")
    t = 1.05 if args.t is None else args.t
    est = ConvexClustering(n_clusters=k, method=args.method, t=t, scale=args.scale)
    est.fit(X)
    out.mkdir(parents=True, exist_ok=True)
    _write_labels(out / "labels.csv", est.labels_, names)
    path = est.path_
    title = f"{args.file.stem}: {path.method}, t = {path.t:g}"
    figures = [
        dendrogram_figure(path, out / "dendrogram.png", n_clusters=k, names=names, title=title),
        path_figure(path, out / "path.png", labels=est.labels_, title=title),
    ]
    (out / "path.html").write_text(path_view_html(path, title=title, names=names))
    n, p = X.shape
    ari = f", ARI {adjusted_rand_index(est.labels_, truth):.4f}" if truth is not None else ""
    print(
        f"{args.file.name}: {n}×{p}, {path.method} t={path.t:g}: {path.n_iter} ADMM steps, "
        f"{len(path.gammas)} kept iterates in {path.seconds:.3f}s; {k} clusters "
        f"(sizes {np.bincount(est.labels_).tolist()}){ari}"
    )
    print("wrote " + ", ".join(map(str, [out / "labels.csv", *figures, out / "path.html"])))
    return 0


def _write_labels(file: Path, labels, names) -> None:
    rows = ["row,cluster" + (",name" if names is not None else "")]
    for i, c in enumerate(labels):
        rows.append(f"{i},{c}" + (f",{names[i]}" if names is not None else ""))
    file.write_text("\n".join(rows) + "\n")


def _bicluster(args, X, header, truth, names, k, out: Path) -> int:
    """``algoreg cluster --bicluster``: CBASS (or its exact mode) on rows and columns."""
    import html

    import numpy as np

    from .clustering import ConvexBiclustering
    from .clustering.datasets import adjusted_rand_index
    from .clustering.figures import heatmap_figure, linkage_figure
    from .clustering.pathview import bicluster_views

    if args.method == "carp-viz":
        raise ConfigError("--method carp-viz has no biclustering variant; use carp or exact")
    if args.scale:
        raise ConfigError("--scale does not apply to --bicluster (the data is centered only)")
    method = "exact" if args.method == "exact" else "cbass"
    t = 1.01 if args.t is None else args.t
    est = ConvexBiclustering(k, args.n_col_clusters, method=method, t=t)
    est.fit(X)
    path = est.path_
    out.mkdir(parents=True, exist_ok=True)
    _write_labels(out / "row_labels.csv", est.row_labels_, names)
    _write_labels(out / "col_labels.csv", est.column_labels_, header)
    stem = f"{args.file.stem}: {path.method}, t = {path.t:g}"
    kc = args.n_col_clusters
    figures = [
        linkage_figure(
            path.row_linkage,
            out / "row_dendrogram.png",
            n_clusters=k,
            names=names,
            title=f"{stem}, rows",
        ),
        linkage_figure(
            path.col_linkage,
            out / "col_dendrogram.png",
            n_clusters=kc,
            names=header,
            title=f"{stem}, columns",
            what="columns",
        ),
        heatmap_figure(
            path,
            out / "heatmap.png",
            n_row_clusters=k,
            n_col_clusters=kc,
            row_names=names,
            col_names=header,
            title=stem,
        ),
    ]
    views = bicluster_views(path, row_names=names, col_names=header, title=stem)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{html.escape(stem)}</title></head>\n<body style="margin:16px">\n'
        + "\n".join(views)
        + "\n</body></html>\n"
    )
    (out / "path.html").write_text(page)
    n, p = X.shape
    ari = (
        f", row ARI {adjusted_rand_index(est.row_labels_, truth):.4f}" if truth is not None else ""
    )
    missing = int(np.isnan(X).sum())
    print(
        f"{args.file.name}: {n}×{p}"
        + (f" ({missing} missing)" if missing else "")
        + f", {path.method} t={path.t:g}: {path.n_iter} ADMM steps, {len(path.gammas)} kept "
        f"iterates in {path.seconds:.3f}s; {k} row clusters (sizes "
        f"{np.bincount(est.row_labels_).tolist()}), {kc} column clusters (sizes "
        f"{np.bincount(est.column_labels_).tolist()}){ari}"
    )
    written = [out / "row_labels.csv", out / "col_labels.csv", *figures, out / "path.html"]
    print("wrote " + ", ".join(map(str, written)))
    return 0


def cmd_bench(args) -> int:
    from .benchmark import format_table, run_bench

    rows = run_bench(
        quick=args.quick,
        sizes=args.sizes or None,
        depths=args.depths,
        optimizers=args.optimizers,
        penalties=args.penalties,
        batches=args.batches,
        iterations=args.iterations,
        rank=args.rank,
        progress=lambda r: print(
            f"  {r['size']} N={r['depth']} {r['optimizer']} {r['penalty']} B={r['B']}: "
            f"{r['steps_per_s']:.0f} trial-steps/s",
            flush=True,
        ),
    )
    print(format_table(rows))
    return 0


COMMANDS = {
    "bench": cmd_bench,
    "cluster": cmd_cluster,
    "run": cmd_run,
    "status": cmd_status,
    "results": cmd_results,
    "plot": cmd_plot,
    "export": cmd_export,
    "merge": cmd_merge,
    "reproduce": cmd_reproduce,
    "report": cmd_report,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
