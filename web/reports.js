// The analysts' report page: fetches the admin reports of this server (same origin, no other
// host) and draws tables and SVG charts. Terms are inserted as text, never as HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg"; // an XML namespace name, not a request

function el(name, attrs = {}, text) {
  const node = name.startsWith("svg:") ? document.createElementNS(SVG, name.slice(4))
                                       : document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function fetchReport(kind, params, key) {
  const url = `/v1/admin/reports/${kind}?` + new URLSearchParams(params);
  const res = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : `HTTP ${res.status}`);
  return body;
}

// Horizontal bars, one per term; each bar carries its term and value for checking.
function barChart(svg, rows, label, value) {
  svg.replaceChildren();
  const rowHeight = 22, labelWidth = 260, width = 720;
  const max = Math.max(1, ...rows.map(value));
  svg.setAttribute("viewBox", `0 0 ${width} ${Math.max(1, rows.length) * rowHeight + 4}`);
  rows.forEach((row, i) => {
    const g = el("svg:g", { "data-term": label(row), "data-value": String(value(row)) });
    const y = i * rowHeight + 2;
    const w = Math.round((width - labelWidth - 60) * value(row) / max);
    g.append(el("svg:text", { x: 0, y: y + 15 }, label(row)),
             el("svg:rect", { x: labelWidth, y, width: w, height: rowHeight - 6 }),
             el("svg:text", { x: labelWidth + w + 4, y: y + 15 }, String(value(row))));
    svg.append(g);
  });
}

// Vertical bars, one per day.
function dayChart(svg, days, value, format, cls) {
  svg.replaceChildren();
  const width = 720, height = 180, bottom = 20;
  const max = Math.max(1e-9, ...days.map(value));
  const step = width / Math.max(1, days.length);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  if (cls) svg.setAttribute("class", `chart ${cls}`);
  days.forEach((d, i) => {
    const h = Math.round((height - bottom - 10) * value(d) / max);
    const g = el("svg:g", { "data-day": d.day, "data-value": String(value(d)) });
    const bar = el("svg:rect", { x: i * step + 1, y: height - bottom - h,
                                 width: Math.max(1, step - 2), height: h });
    bar.append(el("svg:title", {}, `${d.day}: ${format(value(d))}`));
    g.append(bar);
    svg.append(g);
  });
  if (days.length) {
    svg.append(el("svg:text", { x: 0, y: height - 4 }, days[0].day),
               el("svg:text", { x: width - 70, y: height - 4 }, days[days.length - 1].day));
  }
}

function table(node, head, rows, other) {
  node.replaceChildren();
  const tr = el("tr");
  head.forEach(([title, numeric]) => tr.append(el("th", numeric ? { class: "n" } : {}, title)));
  node.append(el("thead"));
  node.firstChild.append(tr);
  const body = el("tbody");
  rows.forEach(cells => {
    const r = el("tr");
    cells.forEach((c, i) => r.append(el("td", head[i][1] ? { class: "n" } : {}, String(c))));
    body.append(r);
  });
  if (other !== undefined) {
    const r = el("tr");
    r.append(el("td", {}, "(other)"), el("td", { class: "n" }, String(other)));
    for (let i = 2; i < head.length; ++i) r.append(el("td"));
    body.append(r);
  }
  node.append(body);
}

async function show(event) {
  if (event) event.preventDefault();
  const status = document.getElementById("status");
  const key = document.getElementById("key").value;
  const params = { top: document.getElementById("top").value || "20" };
  for (const name of ["from", "to", "country", "lang"]) {
    const v = document.getElementById(name).value.trim();
    if (v) params[name] = v;
  }
  status.textContent = "Loading…";
  try {
    const [popular, volume, zero, trending] = await Promise.all(
      ["popular", "volume", "zero-results", "trending"].map(k => fetchReport(k, params, key)));
    barChart(document.getElementById("popular-chart"), popular.terms, t => t.query,
             t => t.searches);
    table(document.getElementById("popular-table"),
          [["Term", false], ["Searches", true], ["Without results", true], ["Searchers (best day)", true]],
          popular.terms.map(t => [t.query, t.searches, t.zero_results, t.searchers]),
          popular.other_searches);
    dayChart(document.getElementById("volume-chart"), volume.days, d => d.searches, String);
    dayChart(document.getElementById("zero-share-chart"), volume.days,
             d => d.searches ? d.zero_results / d.searches : 0,
             v => `${(100 * v).toFixed(1)}%`, "zero");
    table(document.getElementById("zero-results-table"),
          [["Term", false], ["Searches without results", true], ["Searches", true]],
          zero.terms.map(t => [t.query, t.zero_results, t.searches]), zero.other_searches);
    table(document.getElementById("trending-table"),
          [["Term", false], ["Searches", true], ["The period before", true]],
          trending.terms.map(t => [t.query, t.searches, t.previous]));
    status.textContent = `${popular.from} to ${popular.to}: ${popular.total_searches} searches; ` +
      `terms need ${popular.thresholds.searches} searches and ${popular.thresholds.searchers} ` +
      "searchers on one day.";
  } catch (err) {
    status.textContent = `Could not load the reports: ${err.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("filters").addEventListener("submit", show);
});
