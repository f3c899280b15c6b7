/* algoreg results page: per study section, a sortable and filterable table of every trial,
   the interactive summary figure, the trial view and the comparison view. Reads the JSON in
   each section's JSON script element (class study-data); needs Plotly (inlined before this script). */
(function () {
  "use strict";

  const COLORS = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#000000"]; // Okabe–Ito
  const SYMBOLS = ["circle", "square", "triangle-up", "diamond", "triangle-down", "cross", "x", "star"];
  const GLYPHS = ["●", "■", "▲", "◆", "▼", "✚", "✖", "★"]; // the markers, as text
  const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];
  const LOSSES = ["train_loss", "val_error", "test_error", "truth_error", "train_error", "mse"];
  const MARK = { diverged: "⚠ ", failed: "✗ " };
  const CONFIG = { responsive: true, displaylogo: false, displayModeBar: "hover",
                   modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  const MAX_COMPARE = 8;
  let logSteps = false; // per study: a log step axis (set while its views are drawn)

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") {
      if (Number.isInteger(v)) return String(v);
      const a = Math.abs(v);
      if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
      return String(Number(v.toPrecision(4)));
    }
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children || []) node.append(c);
    return node;
  }

  function compareValues(a, b) {
    const na = a === null || a === undefined, nb = b === null || b === undefined;
    if (na || nb) return na === nb ? 0 : na ? 1 : -1; // blanks last, either way
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function positive(traces) {
    return traces.every((t) => t.y.every((v) => v === null || v > 0));
  }

  function panel(container, title, traces, opts) {
    if (!traces.length) return;
    const div = el("div", { className: "panel", role: "img", "aria-label": title });
    container.append(div);
    const layout = {
      title: { text: title, font: { size: 14 }, x: 0.01, xanchor: "left" },
      margin: { l: 60, r: 10, t: 36, b: 40 },
      height: 360,
      hovermode: "closest",
      legend: { font: { size: 10 }, orientation: "h", x: 0, y: -0.22, yanchor: "top" },
      xaxis: { title: { text: "step" }, type: logSteps ? "log" : "linear" },
      yaxis: { type: opts && opts.log && positive(traces) ? "log" : "linear" },
    };
    pending.push(() => Plotly.newPlot(div, traces, layout, CONFIG));
  }

  // panels are drawn once all of a grid's cells exist (else the first takes the whole width)
  const pending = [];
  function flush() {
    pending.splice(0).forEach((draw) => draw());
  }

  function styled(i, extra) {
    return Object.assign(
      {
        type: "scatter",
        mode: "lines+markers",
        line: { color: COLORS[i % COLORS.length], dash: DASHES[i % DASHES.length] },
        marker: { symbol: SYMBOLS[i % SYMBOLS.length], size: 5, color: COLORS[i % COLORS.length] },
      },
      extra
    );
  }

  function historyPanels(container, h) {
    const step = h.step;
    const losses = LOSSES.filter((k) => h[k]).map((k, i) => styled(i, { x: step, y: h[k], name: k }));
    panel(container, "losses and errors", losses, { log: true });
    if (h.effective_rank) {
      panel(container, "effective rank", [styled(3, { x: step, y: h.effective_rank, name: "effective rank" })]);
    }
    if (h.sv) {
      const k = h.sv[0].length;
      const sv = [];
      for (let j = 0; j < k; j++) {
        sv.push(styled(j, { x: step, y: h.sv.map((p) => p[j]), name: "σ" + (j + 1) }));
        if (h.sv_flow) {
          sv.push({
            type: "scatter", mode: "lines", x: step, y: h.sv_flow.map((p) => p[j]),
            name: j === 0 ? "gradient-flow prediction" : "flow σ" + (j + 1), legendgroup: "flow",
            showlegend: j === 0, line: { color: "#000", dash: "dot", width: 1 },
          });
        }
      }
      panel(container, `singular values (top ${k} of ${h.sv_total})` +
        (h.sv_flow ? "; dotted: gradient-flow prediction" : ""), sv, { log: true });
    }
    const bal = ["balancedness", "balance_ratio"].filter((b) => h[b]);
    panel(container, "balancedness", bal.map((b, i) => styled(i + 4, { x: step, y: h[b], name: b })), { log: true });
  }

  function initStudy(section) {
    const data = JSON.parse(section.querySelector("script.study-data").textContent);
    const t = data.trials;
    const index = new Map(t.ids.map((id, i) => [id, i]));
    const chosen = new Set(t.chosen);
    const ticked = new Set();
    const state = { col: null, dir: 1, current: null };
    const table = section.querySelector("table.trials");
    const thead = table.querySelector("thead");
    const tbody = table.querySelector("tbody");
    const filter = section.querySelector("input.filter");
    const count = section.querySelector(".count");
    const view = section.querySelector(".trial-view");
    const compareView = section.querySelector(".compare-view");
    const statusCol = t.columns.indexOf("status");

    // header: a sort button per column (a tick column and the trial id first)
    const head = el("tr", {}, [el("th", { scope: "col", title: "tick to compare" }, ["compare"])]);
    const sortable = ["trial", ...t.columns];
    sortable.forEach((name, c) => {
      const button = el("button", { type: "button", className: "sort", "data-col": String(c - 1) },
        [name, el("span", { className: "arrow", "aria-hidden": "true" })]);
      button.addEventListener("click", () => sortBy(c - 1));
      head.append(el("th", { scope: "col", "aria-sort": "none" }, [button]));
    });
    thead.append(head);

    // one row per trial
    const rows = t.ids.map((id, i) => {
      const values = t.rows[i];
      const status = values[statusCol];
      const box = el("input", { type: "checkbox", "aria-label": "compare trial " + id });
      box.addEventListener("change", () => { box.checked ? ticked.add(id) : ticked.delete(id); });
      const cells = [el("td", {}, [box]), el("td", { title: id }, [el("code", { text: id }), chosen.has(id) ? " ★" : ""])];
      values.forEach((v, c) => {
        const td = el("td", { text: (c === statusCol && MARK[v] ? MARK[v] : "") + fmt(v) });
        if (typeof v === "number") td.className = "num";
        if (c === statusCol && MARK[v]) td.className = "status-" + v;
        cells.push(td);
      });
      const tr = el("tr", { tabindex: "0", "data-id": id, className: "st-" + status,
                            "aria-label": `trial ${id}, ${values[t.columns.indexOf("method")]}, ${status}` }, cells);
      tr.dataset.text = [id, ...values.map(fmt), chosen.has(id) ? "chosen" : ""].join(" ").toLowerCase();
      tr.addEventListener("click", (ev) => { if (ev.target !== box) show(id); });
      tr.addEventListener("keydown", (ev) => {
        if (ev.target === tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); show(id); }
      });
      return tr;
    });
    tbody.append(...rows);

    function sortBy(c) {
      state.dir = state.col === c ? -state.dir : 1;
      state.col = c;
      const key = (tr) => (c < 0 ? tr.dataset.id : t.rows[index.get(tr.dataset.id)][c]);
      const sorted = rows.slice().sort((a, b) => {
        const ka = key(a), kb = key(b);
        const blank = (v) => v === null || v === undefined;
        if (blank(ka) || blank(kb)) return compareValues(ka, kb); // blanks stay last
        return state.dir * compareValues(ka, kb);
      });
      tbody.append(...sorted);
      thead.querySelectorAll("th").forEach((th, i) => {
        if (i === 0) return;
        const on = i - 2 === c;
        th.setAttribute("aria-sort", on ? (state.dir > 0 ? "ascending" : "descending") : "none");
        th.querySelector(".arrow").textContent = on ? (state.dir > 0 ? "▲" : "▼") : "";
      });
    }

    function applyFilter() {
      const terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const tr of rows) {
        const ok = terms.every((w) => tr.dataset.text.includes(w));
        tr.hidden = !ok;
        shown += ok;
      }
      count.textContent = `${shown} of ${rows.length} trials shown`;
    }
    filter.addEventListener("input", applyFilter);
    applyFilter();

    function facts(id) {
      const d = t.details[id];
      const values = t.rows[index.get(id)];
      const status = values[statusCol];
      const pairs = (entries, attr) => el("div", { className: "kv-grid" }, entries.map(([k, v]) =>
        el("div", { className: "kv" }, [el("span", { className: "k", text: k }),
          el("span", Object.assign({ className: "v", text: fmt(v) }, attr(k, v)))])));
      const metrics = pairs(Object.entries(d.metrics), (k, v) => ({ "data-metric": k, "data-value": String(v) }));
      const config = pairs(Object.entries(d.config), (k) => ({ "data-config": k }));
      const head = el("p", {}, [el("strong", { text: `Trial ${id}` }),
        `: ${values[t.columns.indexOf("method")]} — status `, el("strong", { className: "trial-status", text: (MARK[status] || "") + status }),
        chosen.has(id) ? " — ★ a setting the table chose" : ""]);
      const parts = [head, el("h4", { text: "settings (those that differ between trials)" }), config,
        el("h4", { text: "final metrics" }), metrics];
      if (d.error) parts.push(el("p", { className: "error-text", text: d.error }));
      return parts;
    }

    function show(id) {
      if (!index.has(id)) return;
      state.current = id;
      rows.forEach((tr) => {
        const on = tr.dataset.id === id;
        tr.classList.toggle("current", on);
        tr.setAttribute("aria-selected", on ? "true" : "false");
      });
      const [head, ...rest] = facts(id);
      view.replaceChildren(head);
      view.dataset.trial = id;
      const h = data.histories[id];
      if (h) {
        const note = h.n > h.step.length ? ` (${h.step.length} of its ${h.n} log points shown)` : "";
        view.append(el("h4", { text: "history" + note }));
        const panels = el("div", { className: "panels" });
        view.append(panels);
        logSteps = data.log_steps;
        historyPanels(panels, h);
        flush();
      } else {
        view.append(el("p", { className: "hint", text: "This trial logged no history: its final metrics are below." }));
      }
      view.append(...rest);
      section.dispatchEvent(new CustomEvent("algoreg:trial", { detail: { id } }));
    }

    function compare() {
      const ids = t.ids.filter((id) => ticked.has(id)).slice(0, MAX_COMPARE);
      if (ids.length < 2) {
        compareView.replaceChildren(el("p", { className: "hint", text: "Tick at least two trials to compare them." }));
        return;
      }
      const names = [...new Set(ids.flatMap((id) => Object.keys(t.details[id].metrics)))];
      const header = el("tr", {}, [el("th", { text: "metric" }), ...ids.map((id, i) =>
        el("th", { scope: "col", text: `${GLYPHS[i % GLYPHS.length]} ${id}` }))]);
      const method = el("tr", {}, [el("th", { text: "method" }), ...ids.map((id) =>
        el("td", { text: t.rows[index.get(id)][t.columns.indexOf("method")] }))]);
      const settings = Object.keys(t.details[ids[0]].config).map((c) => el("tr", {}, [el("th", { scope: "row", text: c }),
        ...ids.map((id) => el("td", { text: fmt(t.details[id].config[c]) }))]));
      const body = names.map((m) => el("tr", {}, [el("th", { scope: "row", text: m }),
        ...ids.map((id) => el("td", { className: "num", text: fmt(t.details[id].metrics[m]) }))]));
      const tableNode = el("div", { className: "table-wrap" }, [el("table", { className: "compare" }, [header, method, ...settings, ...body])]);
      const panels = el("div", { className: "panels" });
      compareView.replaceChildren(el("p", { text: `${ids.length} trials (line style and marker tell them apart; hover for the trial).` }), panels, tableNode);
      const series = (key, pick) => ids.map((id, i) => {
        const h = data.histories[id];
        if (!h) return null;
        const y = pick ? (h.sv ? h.sv.map((p) => p[0]) : null) : h[key];
        return y ? styled(i, { x: h.step, y, name: id }) : null;
      }).filter(Boolean);
      logSteps = data.log_steps;
      for (const [key, title, log] of [["train_loss", "train loss", true], ["test_error", "test error", true],
        ["effective_rank", "effective rank", false], ["balancedness", "balancedness", true]]) {
        panel(panels, title, series(key, false), { log });
      }
      panel(panels, "largest singular value σ1", series("sv", true), { log: true });
      flush();
    }
    section.querySelector(".compare-button").addEventListener("click", compare);
    section.querySelector(".clear-button").addEventListener("click", () => {
      ticked.clear();
      tbody.querySelectorAll("input[type=checkbox]").forEach((b) => { b.checked = false; });
    });

    const fig = section.querySelector(".figure");
    if (fig && data.figure) {
      Plotly.newPlot(fig, data.figure.data, data.figure.layout, CONFIG).then(() => {
        fig.on("plotly_click", (ev) => {
          const p = ev.points && ev.points[0];
          const id = p && Array.isArray(p.customdata) ? p.customdata[0] : null;
          if (typeof id === "string") show(id);
        });
      });
    }
    section.algoreg = { show, sortBy, compare };
  }

  // each study is drawn when it comes near the viewport (a page of 26 studies opens at once);
  // data-ready="1" marks a drawn one
  function start(s) {
    if (s.dataset.started) return;
    s.dataset.started = "1";
    initStudy(s);
    s.dataset.ready = "1";
  }
  const studies = [...document.querySelectorAll("section.study")].filter((s) => s.querySelector("script.study-data"));
  if ("IntersectionObserver" in window) {
    const seen = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (e.isIntersecting) {
          seen.unobserve(e.target);
          start(e.target);
        }
      }
    }, { rootMargin: "600px 0px" });
    studies.forEach((s) => seen.observe(s));
  } else {
    studies.forEach(start);
  }
})();
