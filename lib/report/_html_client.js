// The HTML report's script, inlined into the page by html_reporter.ts. It
// builds the page from the JSON in #wt--data with textContent only (never
// innerHTML), so nothing a fixture or a peer wrote can become markup.
// Fixtures' details are built when first opened: 1,000 fixtures stay fast.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("wt--data").textContent);
  const STATUSES = ["failed", "error", "invalid", "passed", "skipped"];
  const LABEL = {
    failed: "failed",
    error: "erred",
    invalid: "invalid",
    passed: "passed",
    skipped: "skipped",
  };
  const MARK = { failed: "✗", error: "!", invalid: "?", passed: "✓", skipped: "–" };
  // Okabe–Ito: told apart by colour-blind readers, legible on light and dark.
  const SERIES = ["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#D55E00", "#0072B2", "#F0E442"];
  const shown = { failed: true, error: true, invalid: true, passed: true, skipped: true };
  let query = "";
  const OPEN_AT_MOST = 20;
  const items = [];
  globalThis.wiretestReport = { charts: 0, ready: false };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent) {
    for (let i = 1; i < arguments.length; i++) {
      if (arguments[i]) parent.appendChild(arguments[i]);
    }
    return parent;
  }
  function ms(value) {
    if (typeof value !== "number" || !isFinite(value)) return String(value);
    if (value >= 60000) return (value / 60000).toFixed(1) + " min";
    if (value >= 1000) return (value / 1000).toFixed(2) + " s";
    if (value >= 10) return value.toFixed(0) + " ms";
    return value.toPrecision(3) + " ms";
  }
  function where(location) {
    return location ? location.file + ":" + location.line + ":" + location.column : "";
  }
  function show(value) {
    if (value === undefined) return "(missing)";
    if (typeof value === "string") return JSON.stringify(value);
    return JSON.stringify(value, null, 1);
  }
  function quote(arg) {
    return /^[\w@%+=:,./-]+$/.test(arg) ? arg : "'" + arg.replace(/'/g, "'\\''") + "'";
  }

  // --- summary -----------------------------------------------------------
  function renderSummary() {
    const s = data.summary;
    const counts = {
      failed: s.failed,
      error: s.errors,
      invalid: s.invalid,
      passed: s.passed,
      skipped: s.skipped,
    };
    const bar = document.getElementById("wt--counts");
    STATUSES.forEach(function (status) {
      const button = el("button", "count st-" + status);
      button.type = "button";
      button.dataset.status = status;
      button.setAttribute("aria-pressed", "true");
      add(
        button,
        el("span", "mark", MARK[status]),
        el("b", null, counts[status]),
        el("span", null, " " + LABEL[status]),
      );
      button.addEventListener("click", function () {
        shown[status] = !shown[status];
        button.setAttribute("aria-pressed", String(shown[status]));
        applyFilter();
      });
      bar.appendChild(button);
    });
    const meta = document.getElementById("wt--meta");
    function row(name, value) {
      if (value === undefined || value === null || value === "") return;
      add(meta, el("dt", null, name), el("dd", null, value));
    }
    row("total", s.total + " fixtures");
    row("duration", ms(s.durationMs));
    const first = data.runs[0] || {};
    row("started", first.time);
    row("wiretest", first.wiretest);
    if (first.machine) {
      const m = first.machine;
      row("machine", m.os + " " + m.arch + ", " + m.cpus + " CPUs, Deno " + m.deno);
    }
    data.runs.forEach(function (run, i) {
      const name = data.runs.length > 1 ? "command (run " + (i + 1) + ")" : "command";
      if (run.command) row(name, run.command.map(quote).join(" "));
      if (run.shard) row("shard", run.shard.index + "/" + run.shard.count);
    });
  }

  // --- fixtures ----------------------------------------------------------
  // Rows are made in slices: the first screenful at once, the rest in short
  // tasks after it, so a large report is shown and answers input at once.
  const FIRST_ROWS = 60;
  const ROWS_PER_TASK = 200;
  let made = 0;
  let opened = 0;
  function renderList() {
    data.fixtures.forEach(function (fixture) {
      items.push({
        fixture: fixture,
        node: null,
        built: false,
        text: (fixture.name + "\n" + fixture.file).toLowerCase(),
      });
    });
    const id = decodeURIComponent(location.hash.slice(1));
    const linked = items.findIndex(function (item) {
      return item.fixture.id === id;
    });
    makeRows(Math.max(FIRST_ROWS, linked + 1));
    scheduleRows();
  }

  function scheduleRows() {
    if (made >= items.length) {
      document.documentElement.dataset.rendered = "true";
      globalThis.wiretestReport.rendered = true;
      return;
    }
    setTimeout(function () {
      makeRows(made + ROWS_PER_TASK);
      scheduleRows();
    }, 0);
  }

  /** Makes the rows of the items before `end` not made yet, in order. */
  function makeRows(end) {
    const list = document.getElementById("wt--fixtures");
    const fragment = document.createDocumentFragment();
    const start = made;
    for (; made < Math.min(end, items.length); made++) fragment.appendChild(makeRow(items[made]));
    list.appendChild(fragment);
    // Opening a row before it is in the page fires "toggle" later; build
    // the open ones now so their content is there as soon as they are.
    for (let i = start; i < made; i++) if (items[i].node.open) build(items[i]);
  }

  function makeRow(item) {
    const fixture = item.fixture;
    const details = el("details", "fixture st-" + fixture.status);
    details.id = fixture.id;
    const summary = el("summary");
    const badge = el(
      "span",
      "badge st-" + fixture.status,
      MARK[fixture.status] + " " + LABEL[fixture.status],
    );
    const link = el("a", "anchor", "#");
    link.href = "#" + encodeURIComponent(fixture.id);
    link.title = "Link to this fixture";
    add(
      summary,
      badge,
      el("span", "name", fixture.name),
      el("span", "file", fixture.file),
      el("span", "duration", ms(fixture.durationMs)),
      link,
    );
    details.appendChild(summary);
    item.node = details;
    details.addEventListener("toggle", function () {
      if (details.open) build(item);
    });
    // The first failures open; more would make a large run slow to open.
    const failing = fixture.status === "failed" || fixture.status === "error" ||
      fixture.status === "invalid";
    if (failing && opened < OPEN_AT_MOST) {
      details.open = true;
      opened++;
    }
    details.hidden = !matches(item);
    return details;
  }

  function build(item) {
    if (item.built) return;
    item.built = true;
    const f = item.fixture;
    const body = el("div", "body");
    if (f.reason) add(body, el("p", "reason", "Skipped: " + f.reason));
    if (f.problems.length > 0) {
      const problems = el("ul", "problems");
      f.problems.forEach(function (p) {
        const li = el("li");
        add(li, el("code", "location", where(p)), el("span", null, " " + p.message));
        problems.appendChild(li);
      });
      add(
        body,
        el("h3", null, f.status === "invalid" ? "Problems in the fixture" : "Problems"),
        problems,
      );
    }
    f.steps.forEach(function (step) {
      body.appendChild(renderStep(step));
    });
    if (f.stepsNotRun) add(body, el("p", "muted", f.stepsNotRun + " later step(s) did not run."));
    if (f.steps.length === 0 && f.problems.length === 0 && !f.reason) {
      add(body, el("p", "muted", "No step ran."));
    }
    item.node.appendChild(body);
  }

  function renderStep(step) {
    const section = el("section", "step");
    const last = step.attempts[step.attempts.length - 1];
    const head = el("h3");
    add(
      head,
      el("span", "badge st-" + last.status, MARK[last.status] + " " + LABEL[last.status]),
      el("span", null, " " + step.name + " "),
      el("span", "plugin", step.plugin),
      el("code", "location", where(step.location)),
    );
    section.appendChild(head);
    const chart = percentileChart(step);
    if (chart) section.appendChild(chart);
    const bySeq = sequenceChart(step);
    if (bySeq) section.appendChild(bySeq);
    loadCharts(step).forEach(function (chart) {
      section.appendChild(chart);
    });
    step.attempts.forEach(function (attempt) {
      section.appendChild(renderAttempt(attempt));
    });
    return section;
  }

  function renderAttempt(attempt) {
    const box = el("div", "attempt st-" + attempt.status);
    const of = attempt.maxAttempts ? " of " + attempt.maxAttempts : "";
    const title = "attempt " + attempt.attempt + of + ": " + LABEL[attempt.status] + " in " +
      ms(attempt.durationMs) +
      (attempt.willRetry ? " (retried)" : "");
    box.appendChild(el("h4", null, title));
    if (attempt.error) {
      const error = el("p", "error");
      add(
        error,
        el("code", "location", where(attempt.error)),
        el("span", null, " " + attempt.error.message),
      );
      box.appendChild(error);
    }
    if (attempt.expectations.length > 0) {
      const table = el("table", "expectations");
      const headRow = add(
        el("tr"),
        el("th", null, ""),
        el("th", null, "field"),
        el("th", null, "expected"),
        el("th", null, "actual"),
        el("th", null, "where"),
      );
      add(table, add(el("thead"), headRow));
      const tbody = el("tbody");
      attempt.expectations.forEach(function (e) {
        const tr = el("tr", e.pass ? "pass" : "fail");
        add(
          tr,
          el("td", "mark", e.pass ? "✓" : "✗"),
          add(el("td"), el("code", null, e.key)),
          add(el("td", "expected"), el("code", null, e.expected)),
          add(el("td", "actual"), el("code", null, show(e.actual))),
          add(el("td"), el("code", "location", where(e.location))),
        );
        tbody.appendChild(tr);
      });
      add(box, add(table, tbody));
    }
    const outcome = attempt.outcome || { ok: false, metrics: {}, facts: {} };
    const grid = el("div", "outcome");
    if (attempt.params !== undefined) {
      add(
        grid,
        add(
          el("div"),
          el("h5", null, "params"),
          el("pre", "params", JSON.stringify(attempt.params, null, 2)),
        ),
      );
    }
    const metrics = el("table", "metrics");
    Object.keys(outcome.metrics || {}).forEach(function (name) {
      add(
        metrics,
        add(el("tr"), el("th", null, name), el("td", null, formatNumber(outcome.metrics[name]))),
      );
    });
    add(grid, add(el("div"), el("h5", null, "outcome: ok " + outcome.ok), metrics));
    const facts = Object.assign({}, outcome.facts || {});
    delete facts.rtt_percentiles; // drawn above
    delete facts.rtt_by_seq;
    if (outcome.error) facts.error = outcome.error;
    if (Object.keys(facts).length > 0) {
      add(
        grid,
        add(el("div"), el("h5", null, "facts"), el("pre", "facts", JSON.stringify(facts, null, 2))),
      );
    }
    box.appendChild(grid);
    return box;
  }

  function formatNumber(n) {
    return typeof n === "number" && !Number.isInteger(n)
      ? String(Number(n.toPrecision(6)))
      : String(n);
  }

  // --- charts ------------------------------------------------------------
  // The HDR percentile curve: x is 1 / (1 - p), log-scaled, so 90%, 99%,
  // 99.9%… are evenly apart; one series per attempt that has a curve.
  function percentileChart(step) {
    const curves = [];
    step.attempts.forEach(function (attempt) {
      const curve = attempt.outcome && attempt.outcome.facts &&
        attempt.outcome.facts.rtt_percentiles;
      if (Array.isArray(curve) && curve.length > 1) {
        curves.push({ attempt: attempt.attempt, curve: curve });
      }
    });
    if (curves.length === 0 || typeof uPlot !== "function") return null;
    const xs = [];
    curves.forEach(function (c) {
      c.curve.forEach(function (pair) {
        if (pair[0] < 100 && xs.indexOf(toX(pair[0])) < 0) xs.push(toX(pair[0]));
      });
    });
    xs.sort(function (a, b) {
      return a - b;
    });
    if (xs.length < 2) return null;
    const columns = [xs];
    const series = [{
      label: "percentile",
      value: function (_u, x) {
        return x == null ? "" : pct(x);
      },
    }];
    curves.forEach(function (c, i) {
      const byX = {};
      c.curve.forEach(function (pair) {
        byX[toX(pair[0])] = pair[1];
      });
      columns.push(xs.map(function (x) {
        return x in byX ? byX[x] : null;
      }));
      series.push({
        label: "attempt " + c.attempt + " (ms)",
        stroke: SERIES[i % SERIES.length],
        width: 2,
        spanGaps: true,
        points: { show: true, size: 5 },
        value: function (_u, v) {
          return v == null ? "" : ms(v);
        },
      });
    });
    const box = el("figure", "chart");
    box.dataset.series = String(curves.length);
    box.dataset.kind = "percentile";
    add(box, el("figcaption", null, "Round-trip time by percentile (HDR curve, log scale)"));
    draw(box, {
      scales: {
        x: {
          time: false,
          distr: 3,
          log: 10,
          range: function (_u, _min, max) {
            return [1, Math.max(10, max)];
          },
        },
        y: { range: rangeFromZero },
      },
      axes: [
        {
          label: "percentile",
          // Only the decades: 0%, 90%, 99%, 99.9%… (1, 10, 100, 1000…).
          splits: function (_u, _i, min, max) {
            const out = [];
            for (let x = 1; x <= max * 1.0001; x *= 10) if (x >= min * 0.9999) out.push(x);
            return out;
          },
          values: function (_u, splits) {
            return splits.map(pct);
          },
        },
        { label: "ms", size: 60 },
      ],
      series: series,
      legend: { show: true },
    }, columns);
    return box;
  }
  // udp-ping's round trips by sequence number, the last attempt's: a line
  // of the largest RTT per point, and a mark at 0 where pings were lost.
  function sequenceChart(step) {
    const attempt = step.attempts[step.attempts.length - 1];
    const points = attempt.outcome && attempt.outcome.facts && attempt.outcome.facts.rtt_by_seq;
    if (!Array.isArray(points) || points.length < 2) return null;
    const seqs = points.map(function (p) {
      return p[0];
    });
    const rtts = points.map(function (p) {
      return p[1];
    });
    const losses = points.map(function (p) {
      return p[2] > 0 ? 0 : null;
    });
    const lostCount = {};
    points.forEach(function (p) {
      lostCount[p[0]] = p[2];
    });
    const box = el("figure", "chart");
    box.dataset.series = "2";
    box.dataset.kind = "sequence";
    add(
      box,
      el(
        "figcaption",
        null,
        "Round-trip time by sequence number, attempt " + attempt.attempt + " (losses marked at 0)",
      ),
    );
    draw(box, {
      scales: { x: { time: false }, y: { range: rangeFromZero } },
      axes: [{ label: "sequence number" }, { label: "ms", size: 60 }],
      series: [
        { label: "seq" },
        {
          label: "largest rtt (ms)",
          stroke: SERIES[1],
          width: 1.5,
          spanGaps: false,
          value: function (_u, v) {
            return v == null ? "" : ms(v);
          },
        },
        {
          label: "lost",
          stroke: SERIES[4],
          fill: SERIES[4],
          width: 0,
          paths: function () {
            return null;
          },
          points: { show: true, size: 8, fill: SERIES[4] },
          value: function (u, v, _s, i) {
            return v == null || i == null ? "" : String(lostCount[u.data[0][i]]);
          },
        },
      ],
    }, [seqs, rtts, losses]);
    return box;
  }
  // A load step's run over time, the last attempt's: iterations and errors
  // per second (and the rate asked, open model), and the p50/p90/p99
  // latencies of each second. Colours from Okabe–Ito, each line also told
  // apart by its dash, so neither colour vision nor a dark page hides one.
  function loadCharts(step) {
    const attempt = step.attempts[step.attempts.length - 1];
    const load = attempt.load;
    if (!load || !Array.isArray(load.series) || load.series.length === 0) return [];
    // A row that closes within the previous one's rounding (a run's tail
    // under 5 ms) is added to it: uPlot needs each second once, and a lone
    // point beside an equal second was drawn as nothing.
    const rows = [];
    load.series.forEach(function (r) {
      const last = rows[rows.length - 1];
      if (last === undefined || r.second > last.second) {
        rows.push(r);
        return;
      }
      rows[rows.length - 1] = Object.assign({}, last, {
        iterations: last.iterations + r.iterations,
        errors: last.errors + r.errors,
        bytes: last.bytes + r.bytes,
      });
    });
    const seconds = rows.map(function (r) {
      return r.second;
    });
    // A row covers the time since the previous one (the last may be shorter).
    const perSecond = function (key) {
      return rows.map(function (r, i) {
        const span = r.second - (i === 0 ? 0 : rows[i - 1].second);
        return span > 0 ? r[key] / span : null;
      });
    };
    const number = function (v) {
      return v === null || v === undefined || !isFinite(v) ? null : v;
    };
    const perS = function (_u, v) {
      return v == null ? "" : formatNumber(v) + "/s";
    };
    const rateSeries = [
      { label: "second" },
      { label: "iterations", stroke: SERIES[2], width: 2, value: perS },
      {
        label: "errors",
        stroke: SERIES[4],
        width: 1.5,
        dash: [2, 3],
        points: { show: true, size: 6, fill: SERIES[4] },
        value: perS,
      },
    ];
    const rateColumns = [seconds, perSecond("iterations"), perSecond("errors")];
    if (typeof load.askedRate === "number") {
      rateSeries.push({
        label: "asked",
        stroke: SERIES[1],
        width: 1.5,
        dash: [8, 4],
        value: perS,
      });
      rateColumns.push(seconds.map(function () {
        return load.askedRate;
      }));
    }
    const rate = el("figure", "chart");
    rate.dataset.series = String(rateSeries.length - 1);
    rate.dataset.kind = "load-rate";
    add(
      rate,
      el(
        "figcaption",
        null,
        "Load, attempt " + attempt.attempt + ": iterations and errors per second (" + load.model +
          " model" + (load.interrupted ? ", stopped early" : "") + ")",
      ),
    );
    draw(rate, {
      scales: { x: { time: false }, y: { range: rangeFromZero } },
      axes: [{ label: "seconds" }, { label: "per second", size: 60 }],
      series: rateSeries,
    }, rateColumns);
    const msValue = function (_u, v) {
      return v == null ? "" : ms(v);
    };
    const latency = el("figure", "chart");
    latency.dataset.series = "3";
    latency.dataset.kind = "load-latency";
    add(
      latency,
      el(
        "figcaption",
        null,
        "Load, attempt " + attempt.attempt + ": latency percentiles of each second" +
          (load.model === "open" ? " (from intended start)" : ""),
      ),
    );
    const column = function (key) {
      return rows.map(function (r) {
        return number(r[key]);
      });
    };
    draw(latency, {
      scales: { x: { time: false }, y: { range: rangeFromZero } },
      axes: [{ label: "seconds" }, { label: "ms", size: 60 }],
      series: [
        { label: "second" },
        { label: "p50", stroke: SERIES[1], width: 2, value: msValue },
        { label: "p90", stroke: SERIES[0], width: 2, dash: [8, 4], value: msValue },
        { label: "p99", stroke: SERIES[3], width: 2, dash: [2, 3], value: msValue },
      ],
    }, [seconds, column("p50_ms"), column("p90_ms"), column("p99_ms")]);
    return [rate, latency];
  }
  function rangeFromZero(_u, _min, max) {
    return [0, max * 1.1 || 1];
  }
  // Charts are drawn when they come near the screen (a large report opens
  // with a few drawn, not hundreds), and all of them before printing.
  const pending = new Map();
  const watcher = typeof IntersectionObserver === "function"
    ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) drawNow(entry.target);
      });
    }, { rootMargin: "200px" })
    : null;
  function drawNow(box) {
    const render = pending.get(box);
    if (!render) return;
    pending.delete(box);
    if (watcher) watcher.unobserve(box);
    render();
  }
  // Draws once the figure is in the page and near the screen, when its width
  // is known; axes in the page's ink and grid colours (light or dark).
  function draw(box, options, columns) {
    pending.set(box, function () {
      const styles = getComputedStyle(document.documentElement);
      const ink = styles.getPropertyValue("--ink").trim() || "#222";
      const grid = styles.getPropertyValue("--grid").trim() || "#ccc";
      options.axes = options.axes.map(function (a) {
        return Object.assign({
          stroke: ink,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
        }, a);
      });
      options.width = Math.max(280, Math.min(760, box.clientWidth || 600));
      options.height = 240;
      new uPlot(options, columns, box);
      box.dataset.drawn = "true";
      globalThis.wiretestReport.charts++;
    });
    // Observed once the figure is in the document (its step is built first).
    requestAnimationFrame(function () {
      if (!pending.has(box)) return;
      if (watcher) watcher.observe(box);
      else drawNow(box);
    });
  }
  function toX(p) {
    return Math.round(1e6 / (1 - p / 100)) / 1e6;
  }
  function pct(x) {
    const p = 100 * (1 - 1 / x);
    return (p <= 0 ? "0" : String(Number(p.toPrecision(6)))) + "%";
  }

  // --- filter, search, deep links -----------------------------------------
  function matches(item) {
    return shown[item.fixture.status] && (query === "" || item.text.indexOf(query) >= 0);
  }
  function applyFilter() {
    let visible = 0;
    items.forEach(function (item) {
      const on = matches(item);
      if (item.node) item.node.hidden = !on;
      if (on) visible++;
    });
    document.getElementById("wt--shown").textContent = visible + " of " + items.length +
      " fixtures shown";
  }

  function followHash() {
    const id = decodeURIComponent(location.hash.slice(1));
    if (id === "") return;
    const index = items.findIndex(function (item) {
      return item.fixture.id === id;
    });
    if (index >= made) makeRows(index + 1);
    const target = document.getElementById(id);
    if (!target || !target.classList.contains("fixture")) return;
    if (target.hidden) {
      // The filter hid it: show everything again rather than a blank jump.
      STATUSES.forEach(function (s) {
        shown[s] = true;
      });
      document.querySelectorAll("#wt--counts button").forEach(function (b) {
        b.setAttribute("aria-pressed", "true");
      });
      query = "";
      document.getElementById("wt--search").value = "";
      applyFilter();
    }
    target.open = true;
    items.forEach(function (item) {
      if (item.node === target) build(item);
    });
    target.scrollIntoView({ block: "start" });
    target.classList.add("target");
  }

  renderSummary();
  renderList();
  const search = document.getElementById("wt--search");
  search.addEventListener("input", function () {
    query = search.value.trim().toLowerCase();
    applyFilter();
  });
  applyFilter();
  globalThis.addEventListener("hashchange", followHash);
  // Printing shows the fixtures as filtered, each opened.
  globalThis.addEventListener("beforeprint", function () {
    makeRows(items.length);
    items.forEach(function (item) {
      if (!item.node.hidden) {
        build(item);
        item.node.open = true;
      }
    });
    Array.from(pending.keys()).forEach(drawNow);
  });
  followHash();
  document.documentElement.dataset.ready = "true";
  globalThis.wiretestReport.ready = true;
  globalThis.wiretestReport.readyMs = performance.now();
  globalThis.wiretestReport.rowsAtReady = made;
})();
