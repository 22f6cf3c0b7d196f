/// <reference lib="dom" />
import type { ReportData, ViewerRow } from "./report-data.js";

/** Observable Plot, inlined into the page from its npm package (UMD build, global `Plot`). */
interface PlotApi {
  plot(options: Record<string, unknown>): Element;
  barX(data: unknown[], options: Record<string, unknown>): unknown;
  text(data: unknown[], options: Record<string, unknown>): unknown;
  ruleX(data: unknown[]): unknown;
}

/**
 * The page's script. It runs in the browser: the function's own source is inlined into the page
 * (Function.prototype.toString), so it must be self-contained: no imports, no outer variables.
 */
export function reportClient(data: ReportData, Plot: PlotApi): void {
  const PALETTE = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00", "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"];
  const $ = (id: string) => document.getElementById(id)!;
  const el = (tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  };
  const fmt = (n: number) => n.toLocaleString("en-US");

  // Header
  const rows = data.splits.reduce((n, s) => n + s.rows, 0);
  $("summary").append(
    el("span", { "data-testid": "attempts" }, `${fmt(data.attempts.total)} attempts`),
    " → ",
    el("span", { "data-testid": "rows" }, `${fmt(rows)} rows`),
    ` (${data.splits.map((s) => `${s.split} ${fmt(s.rows)} rows / ${fmt(s.tasks)} tasks`).join(", ")}); format ${data.format}; built ${data.created}`,
    el("br"),
    el("span", { "data-testid": "decontamination" }, data.decontamination),
    ...(data.pairs ? [el("br"), el("span", { "data-testid": "pairs" }, data.pairs)] : []),
  );

  // The funnel: kept per stage, then the drop reasons of each stage.
  const steps = [{ stage: "attempts", kept: data.attempts.total, dropped: {} as Record<string, number> }, ...data.funnel];
  const order = steps.map((s) => s.stage);
  $("funnel-chart").append(
    Plot.plot({
      marginLeft: 130,
      marginRight: 70,
      width: 760,
      height: 28 * steps.length + 40,
      x: { label: "programs kept", grid: true },
      y: { domain: order, label: null },
      marks: [
        Plot.barX(steps, { x: "kept", y: "stage", fill: "#0074D9", title: (d: { stage: string; kept: number }) => `${d.stage}: ${d.kept} kept` }),
        Plot.text(steps, { x: "kept", y: "stage", text: (d: { kept: number }) => fmt(d.kept), dx: 4, textAnchor: "start" }),
        Plot.ruleX([0]),
      ],
    }),
  );
  const drops = data.funnel.flatMap((s) => Object.entries(s.dropped).map(([reason, n]) => ({ stage: s.stage, reason, n })));
  const reasons = [...new Set(drops.map((d) => d.reason))].sort();
  const schemes = (window as unknown as { d3: Record<"schemeTableau10" | "schemeSet3" | "schemePaired", readonly string[]> }).d3;
  if (drops.length > 0) {
    $("drops-chart").append(
      Plot.plot({
        marginLeft: 130,
        width: 760,
        height: 28 * data.funnel.length + 60,
        x: { label: "programs dropped", grid: true },
        y: { domain: data.funnel.map((s) => s.stage), label: null },
        // One colour per reason: 10 + 12 + 12 distinct ones before any repeats.
        color: { legend: true, type: "categorical", domain: reasons, range: [...schemes.schemeTableau10, ...schemes.schemeSet3, ...schemes.schemePaired] },
        marks: [
          Plot.barX(drops, {
            x: "n",
            y: "stage",
            fill: "reason",
            title: (d: { stage: string; reason: string; n: number }) => `${d.stage} dropped ${d.reason}: ${d.n}`,
          }),
          Plot.ruleX([0]),
        ],
      }),
    );
  }
  const dropTable = el(
    "table",
    { class: "numbers", "data-testid": "drop-table" },
    el("tr", {}, el("th", {}, "stage"), el("th", {}, "kept"), el("th", {}, "dropped, by reason")),
  );
  for (const s of data.funnel) {
    const reasons =
      Object.entries(s.dropped)
        .map(([r, n]) => `${r} ${fmt(n)}`)
        .join(", ") || "—";
    dropTable.append(el("tr", { "data-stage": s.stage }, el("td", {}, s.stage), el("td", { class: "n" }, fmt(s.kept)), el("td", {}, reasons)));
  }
  $("funnel-table").append(dropTable);

  // Sandbox health
  const sandbox = data.sandbox;
  if (!sandbox) $("sandbox").append(el("p", {}, "Every execution came from the cache: the sandbox did not start in this build."));
  else {
    const total = Object.values(sandbox.outcomes).reduce((a, b) => a + b, 0) || 1;
    const list = el("table", { class: "numbers", "data-testid": "sandbox-table" });
    list.append(
      el(
        "tr",
        {},
        el("th", {}, "isolation in force"),
        el("td", {}, `${sandbox.isolation} (${sandbox.backend} backend, Python ${sandbox.python}, numpy ${sandbox.numpy})`),
      ),
    );
    list.append(el("tr", {}, el("th", {}, "executions"), el("td", {}, `${fmt(sandbox.executions)} (${fmt(sandbox.cacheHits)} from the cache)`)));
    list.append(el("tr", {}, el("th", {}, "time per program"), el("td", {}, `${sandbox.msPerProgram.toFixed(1)} ms`)));
    for (const [status, n] of Object.entries(sandbox.outcomes))
      list.append(el("tr", {}, el("th", {}, status), el("td", {}, `${fmt(n)} (${((n / total) * 100).toFixed(1)}%)`)));
    $("sandbox").append(list);
  }

  // The per-task table: sortable (click a header), filterable (any column contains the text).
  const columns = ["dataset", "task_id", "read", "executed", "kept", "solved", "group", "split"] as const;
  let sortKey: (typeof columns)[number] = "task_id";
  let ascending = true;
  const table = el("table", { class: "tasks", "data-testid": "task-table" });
  const head = el("tr", {});
  for (const c of columns) {
    const th = el("th", { "data-column": c }, c);
    th.addEventListener("click", () => {
      ascending = sortKey === c ? !ascending : true;
      sortKey = c;
      renderTasks();
    });
    head.append(th);
  }
  const body = el("tbody", {});
  table.append(el("thead", {}, head), body);
  $("tasks").append(table);
  const filter = $("task-filter") as HTMLInputElement;
  filter.addEventListener("input", () => renderTasks());
  function renderTasks() {
    const needle = filter.value.trim().toLowerCase();
    const shown = data.tasks
      .filter(
        (t) =>
          !needle ||
          columns.some((c) =>
            String(t[c] ?? "")
              .toLowerCase()
              .includes(needle),
          ),
      )
      .sort((a, b) => {
        const x = a[sortKey] ?? "";
        const y = b[sortKey] ?? "";
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
    body.replaceChildren(
      ...shown.map((t) => {
        const tr = el(
          "tr",
          { "data-task": `${t.dataset}/${t.task_id}` },
          ...columns.map((c) => el("td", typeof t[c] === "number" ? { class: "n" } : {}, String(t[c] ?? "—"))),
        );
        tr.addEventListener("click", () => showTask(`${t.dataset}/${t.task_id}`));
        return tr;
      }),
    );
    $("task-count").textContent = `${shown.length} of ${data.tasks.length} tasks`;
  }
  renderTasks();

  // The row viewer
  $("viewer-note").textContent = data.viewerNote;
  // `against`: the real output; a cell of a prediction that differs from it is outlined.
  const grid = (g: Grid, label: string, against?: Grid) => {
    const cells = el("div", { class: "grid", style: `grid-template-columns: repeat(${g[0]?.length ?? 1}, 14px)`, "data-label": label });
    const sameShape = against && against.length === g.length && against.every((row, r) => row.length === g[r]!.length);
    g.forEach((row, r) =>
      row.forEach((c, k) => {
        const differs = Boolean(sameShape && against![r]![k] !== c);
        cells.append(
          el("div", {
            class: differs ? "cell differs" : "cell",
            "data-colour": String(c),
            ...(differs ? { "data-differs": "true" } : {}),
            style: `background:${PALETTE[c] ?? "#fff"}`,
          }),
        );
      }),
    );
    if (g.length === 0) cells.append(el("span", { class: "none" }, "none"));
    return el("figure", {}, cells, el("figcaption", {}, label));
  };
  type Grid = number[][];
  function showRow(row: ViewerRow) {
    const examples = el("div", { class: "examples", "data-testid": "row-grids" });
    // A refinement pair shows the parent's prediction beside the child's.
    const parent = row.parent;
    const pair = (kind: string, i: number, input: Grid, real: Grid, predicted: Grid, correct: boolean, before?: Grid) =>
      el(
        "div",
        { class: `example ${correct ? "right" : "wrong"}`, "data-correct": String(correct) },
        el("h4", {}, `${kind} ${i} ${correct ? "✓ right" : "✗ differs from the real output"}`),
        grid(input, "input"),
        grid(real, "real output"),
        ...(before ? [grid(before, "parent's prediction", real)] : []),
        grid(predicted, parent ? "child's prediction" : "predicted", real),
      );
    row.trainInputs.forEach((input, i) =>
      examples.append(pair("train", i, input, row.trainOutputs[i]!, row.predictedTrain[i]!, row.correctTrain[i]!, parent?.predictedTrain[i])),
    );
    row.testInputs.forEach((input, i) =>
      examples.append(pair("test", i, input, row.testOutputs[i]!, row.predictedTest[i]!, row.correctTest[i]!, parent?.predictedTest[i])),
    );
    const code = (text: string, testid: string) => {
      const block = el("code", { class: "language-python" }, text);
      const prism = (window as unknown as { Prism?: { highlightElement(e: Element): void } }).Prism;
      prism?.highlightElement(block);
      return el("pre", { "data-testid": testid, class: "language-python" }, block);
    };
    if (row.messages) {
      $("row").replaceChildren(
        el("p", {}, `split: ${row.split}`),
        el("div", { class: "messages", "data-testid": "row-messages" }, ...row.messages.flatMap((m) => [el("h4", {}, m.role), el("pre", {}, m.content)])),
      );
      return;
    }
    const parentBlock = parent ? [el("h4", {}, `parent's code (pair from ${parent.source})`), code(parent.code, "parent-code")] : [];
    $("row").replaceChildren(
      el("p", {}, `split: ${row.split}`),
      examples,
      ...parentBlock,
      el("h4", {}, parent ? "child's code" : "code (cleaned)"),
      code(row.code, "row-code"),
    );
  }
  function showTask(key: string, scroll = true) {
    const rows = data.viewer[key] ?? [];
    const picker = $("row-picker");
    $("viewer-task").textContent = key;
    if (rows.length === 0) {
      picker.replaceChildren();
      $("row").replaceChildren(el("p", {}, "No row of this task is in the report (it wrote none, or the page's budget was spent)."));
      return;
    }
    picker.replaceChildren(
      ...rows.map((row, i) => {
        const button = el(
          "button",
          { "data-row": String(i) },
          `row ${i + 1} (${row.correctTrain.filter(Boolean).length}/${row.correctTrain.length} train right${row.correctTest.every(Boolean) ? ", solves the test" : ""})`,
        );
        button.addEventListener("click", () => showRow(row));
        return button;
      }),
    );
    showRow(rows[0]!);
    if (scroll) $("viewer").scrollIntoView();
  }
  const first = Object.keys(data.viewer)[0];
  if (first) showTask(first, false);
}
