// The search page: search-as-you-type with suggestions (an ARIA combobox), results with
// highlighted snippets, type and language facets, paging, typo corrections ("showing results
// for", with a link to the exact words), "did you mean" and the language preference. It asks only this server's /v1 API. Everything from the server is inserted as
// text; the only markup taken from a snippet is its <mark>, rebuilt as an element.
"use strict";

const $ = id => document.getElementById(id);
const input = $("q"), listbox = $("suggestions"), statusLine = $("status"), hitsList = $("hits");
const TYPE_NAMES = { article: "Articles", photo: "Photos", video: "Videos", comment: "Comments" };
const LANG_NAMES = { en: "English", ja: "日本語", zh: "中文", de: "Deutsch", fr: "Français" };
const PER_PAGE = 10, DEBOUNCE_MS = 150;

// What is shown: the query and filters of the last committed search (in the address bar).
// `exact`: typo tolerance off (typos=0), after "search instead for".
const state = { q: "", page: 1, types: [], langs: [], exact: false };
let generation = 0; // answers to older requests are dropped
let controller = null, debounceTimer = 0;
let options = [], active = -1; // the suggestions listbox

function el(name, attrs = {}, text) {
  const node = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'" };
const decode = s => s.replace(/&(?:amp|lt|gt|quot|#39);/g, e => ENTITIES[e]);

// A snippet is HTML-escaped text with the matches in <mark>…</mark>: split on those two tags,
// decode the escapes of the rest and insert it as text, so nothing else can become markup.
function appendSnippet(node, snippet) {
  let marked = false;
  for (const part of snippet.split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) node.append(marked ? el("mark", {}, decode(part)) : decode(part));
  }
}

// Only http(s) links (absolute, or relative to this site) become links, as given.
function safeUrl(url) {
  if (!url) return null;
  try {
    const u = new URL(url, location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, params, signal) {
  const res = await fetch(`${path}?${params}`, { signal, headers: { Accept: "application/json" } });
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const e = body && body.error ? body.error : { code: "http", message: `HTTP ${res.status}` };
    throw new ApiError(res.status, e.code, e.message);
  }
  return body;
}

function searchParams(q, { prefix = false, page = 1, types = [], langs = [], exact = false } = {}) {
  const p = new URLSearchParams({ q, per_page: String(PER_PAGE) });
  if (exact) p.set("typos", "0");
  if (page > 1) p.set("page", String(page));
  if (types.length) p.set("type", types.join(","));
  if (langs.length) p.set("lang", langs.join(","));
  if (prefix) p.set("prefix", "1");
  else p.set("facets", "1");
  return p;
}

// A view of a document, reported the way beacon.js reports one: no cookie, no identifier.
function reportView(id) {
  const body = JSON.stringify({ id });
  if (navigator.sendBeacon && navigator.sendBeacon("/v1/views", body)) return;
  fetch("/v1/views", { method: "POST", body, keepalive: true, headers: { "Content-Type": "text/plain" } })
    .catch(() => {});
}

// ---- results ------------------------------------------------------------------------------

function setStatus(text, kind = "") {
  statusLine.textContent = text;
  statusLine.className = kind;
}

function showError(e, q) {
  hitsList.replaceChildren();
  $("pager").hidden = true;
  $("did-you-mean").hidden = true;
  $("corrected").hidden = true;
  if (e.code === "invalid_query" || e.code === "missing_parameter")
    setStatus(`Nothing to search for in “${q}”: type a word.`, "empty");
  else if (e.status === 429)
    setStatus("Too many searches at once. Wait a moment and try again.", "error");
  else if (e.status === 503 || e.status === 0 || e instanceof TypeError)
    setStatus("Search is not available right now. Try again in a moment.", "error");
  else
    setStatus(`The search failed: ${e.message}`, "error");
}

function renderHits(result, q, live) {
  hitsList.replaceChildren();
  hitsList.start = (result.page - 1) * result.per_page + 1;
  for (const hit of result.hits) {
    const li = el("li", { class: "hit" });
    if (hit.lang) li.lang = hit.lang;
    const h = el("h2");
    const href = safeUrl(hit.url);
    h.append(href ? el("a", { href, "data-id": hit.id }, hit.title || hit.url)
                  : el("span", {}, hit.title || hit.id));
    const meta = el("p", { class: "meta" });
    const parts = [TYPE_NAMES[hit.type] ? TYPE_NAMES[hit.type].replace(/s$/, "") : hit.type,
                   LANG_NAMES[hit.lang] || hit.lang];
    if (hit.published) parts.push(hit.published.slice(0, 10));
    meta.textContent = parts.filter(Boolean).join(" · ");
    if (href) meta.append(el("span", { class: "url" }, hit.url));
    const snippet = el("p", { class: "snippet" });
    appendSnippet(snippet, hit.snippet || "");
    li.append(h, meta, snippet);
    hitsList.append(li);
  }
  const pages = Math.max(1, Math.ceil(result.total / result.per_page));
  if (!result.hits.length) {
    setStatus(result.page > 1 ? `No more results for “${q}”.`
                              : `No results for “${q}”. Check the spelling, or try fewer or other words.`,
              "empty");
  } else {
    const n = result.total === 1 ? "1 result" : `${result.total.toLocaleString()} results`;
    setStatus(live ? `${n} so far for “${q}”; press Enter for filters.`
                   : `${n} for “${q}”` + (pages > 1 ? `, page ${result.page} of ${pages}.` : "."));
  }
  showCorrected(result, q);
  const dym = result.did_you_mean;
  $("did-you-mean").hidden = !dym;
  if (dym) $("dym").textContent = dym;
  const pager = $("pager");
  pager.hidden = live || pages <= 1;
  $("prev").disabled = result.page <= 1;
  $("next").disabled = result.page >= pages;
  $("page-of").textContent = `Page ${result.page} of ${pages}`;
}

// The query with the words typo tolerance matched as the words they matched ("photgraphy
// tips" → "photography tips"). The server's keys are folded words.
function correctedQuery(q, corrected) {
  return q.replace(/[^\s"():-]+/gu, w => corrected[w.toLowerCase()] ?? w);
}

// "Showing results for photography · search instead for photgraphy": the link searches the
// words as typed, without typo tolerance.
function showCorrected(result, q) {
  const corrected = result.corrected || {};
  const shown = result.hits.length > 0 && Object.keys(corrected).length > 0;
  $("corrected").hidden = !shown;
  if (!shown) return;
  $("corrected-q").textContent = correctedQuery(q, corrected);
  const link = $("exact");
  link.textContent = q;
  link.href = `/?${new URLSearchParams({ q, typos: "0" })}`;
}

function renderFacets(result) {
  const aside = $("facets");
  const facets = result && result.facets;
  aside.hidden = !facets || !result.total;
  if (aside.hidden) return;
  const group = (fieldset, name, counts, selected, names) => {
    fieldset.querySelectorAll("label").forEach(l => l.remove());
    const values = new Set([...Object.keys(counts), ...selected]);
    for (const value of [...values].sort((a, b) => (counts[b] || 0) - (counts[a] || 0))) {
      const box = el("input", { type: "checkbox", name, value });
      box.checked = selected.includes(value);
      const label = el("label");
      if (name === "lang") label.lang = value;
      label.append(box, ` ${names[value] || value} `, el("span", { class: "count" }, `(${counts[value] || 0})`));
      fieldset.append(label);
    }
  };
  group($("facet-type"), "type", facets.type || {}, state.types, TYPE_NAMES);
  group($("facet-lang"), "lang", facets.lang || {}, state.langs, LANG_NAMES);
}

// A finished search: the first page is logged by the server (as a search people made), facets
// are counted, and the address bar remembers it.
async function commit(q, { page = 1, push = true, exact = false } = {}) {
  q = q.trim();
  clearTimeout(debounceTimer);
  closeSuggestions();
  state.q = q;
  state.page = page;
  state.exact = exact;
  if (push) {
    const p = new URLSearchParams();
    if (q) p.set("q", q);
    if (exact) p.set("typos", "0");
    if (page > 1) p.set("page", String(page));
    if (state.types.length) p.set("type", state.types.join(","));
    if (state.langs.length) p.set("lang", state.langs.join(","));
    const url = p.toString() ? `/?${p}` : "/";
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
  }
  document.title = q ? `${q} – Search` : "Search";
  if (!q) return clearResults();
  const mine = ++generation;
  if (controller) controller.abort();
  controller = new AbortController();
  setStatus("Searching…");
  try {
    const result = await api("/v1/search", searchParams(q, { page, types: state.types, langs: state.langs, exact }),
                             controller.signal);
    if (mine !== generation) return;
    renderHits(result, q, false);
    renderFacets(result);
  } catch (e) {
    if (mine !== generation || e.name === "AbortError") return;
    renderFacets(null);
    showError(e, q);
  }
}

function clearResults() {
  ++generation;
  hitsList.replaceChildren();
  renderFacets(null);
  $("pager").hidden = true;
  $("did-you-mean").hidden = true;
  $("corrected").hidden = true;
  setStatus("");
}

// ---- search-as-you-type and the suggestions listbox ---------------------------------------

async function typed() {
  const q = input.value;
  if (!q.trim()) {
    closeSuggestions();
    return clearResults();
  }
  // A new query starts without the filters of the last one.
  state.types = [];
  state.langs = [];
  const mine = ++generation;
  if (controller) controller.abort();
  controller = new AbortController();
  const signal = controller.signal;
  const suggest = api("/v1/suggest", new URLSearchParams({ q, limit: "5" }), signal)
    .then(s => { if (mine === generation) showSuggestions(s); })
    .catch(() => { if (mine === generation) closeSuggestions(); });
  try {
    const result = await api("/v1/search", searchParams(q, { prefix: true }), signal);
    if (mine !== generation) return;
    renderHits(result, q.trim(), true);
    renderFacets(null);
  } catch (e) {
    if (mine !== generation || e.name === "AbortError") return;
    showError(e, q.trim());
  }
  await suggest;
}

function showSuggestions(s) {
  listbox.replaceChildren();
  options = [];
  const seen = new Set();
  for (const text of [...(s.completions || []), ...(s.popular || [])]) {
    if (seen.has(text) || text === input.value.trim()) continue;
    seen.add(text);
    options.push({ kind: "query", text });
  }
  for (const t of s.titles || []) {
    const href = safeUrl(t.url);
    if (href) options.push({ kind: "title", text: t.title || t.url, href, id: t.id, type: t.type, lang: t.lang });
  }
  options.forEach((o, i) => {
    const li = el("li", { role: "option", id: `suggestion-${i}`, "aria-selected": "false",
                          class: o.kind });
    if (o.kind === "title") {
      if (o.lang) li.lang = o.lang;
      li.append(el("span", { class: "title" }, o.text),
                el("span", { class: "kind" }, TYPE_NAMES[o.type] ? TYPE_NAMES[o.type].replace(/s$/, "") : "Page"));
    } else {
      li.textContent = o.text;
    }
    li.addEventListener("mousedown", e => e.preventDefault()); // keep the focus in the box
    li.addEventListener("click", () => choose(i));
    listbox.append(li);
  });
  active = -1;
  input.removeAttribute("aria-activedescendant");
  const open = options.length > 0 && document.activeElement === input;
  listbox.hidden = !open;
  input.setAttribute("aria-expanded", String(open));
}

function closeSuggestions() {
  listbox.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
  active = -1;
}

function highlight(i) {
  const items = listbox.children;
  if (active >= 0 && items[active]) items[active].setAttribute("aria-selected", "false");
  active = i;
  if (i < 0) {
    input.removeAttribute("aria-activedescendant");
    return;
  }
  items[i].setAttribute("aria-selected", "true");
  input.setAttribute("aria-activedescendant", items[i].id);
  items[i].scrollIntoView({ block: "nearest" });
}

function choose(i) {
  const o = options[i];
  if (!o) return;
  if (o.kind === "title") {
    reportView(o.id);
    location.href = o.href;
    return;
  }
  input.value = o.text;
  commit(o.text);
}

input.addEventListener("input", () => {
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(typed, DEBOUNCE_MS);
});

input.addEventListener("keydown", e => {
  const open = !listbox.hidden;
  switch (e.key) {
    case "ArrowDown":
      e.preventDefault();
      if (!open && options.length) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      if (options.length) highlight(active + 1 >= options.length ? 0 : active + 1);
      break;
    case "ArrowUp":
      e.preventDefault();
      if (open && options.length) highlight(active <= 0 ? options.length - 1 : active - 1);
      break;
    case "Enter":
      if (open && active >= 0) {
        e.preventDefault();
        choose(active);
      }
      break; // otherwise the form is submitted
    case "Escape":
      if (open) {
        e.preventDefault();
        closeSuggestions();
      } else if (input.value) {
        e.preventDefault();
        input.value = "";
        commit("");
      }
      break;
    case "Tab":
      closeSuggestions();
      break;
  }
});

input.addEventListener("blur", () => closeSuggestions());

$("search").addEventListener("submit", e => {
  e.preventDefault();
  commit(input.value);
});

// ---- facets, paging, corrections, "did you mean" -------------------------------------------------------

$("facets").addEventListener("change", e => {
  const box = e.target;
  if (box.type !== "checkbox") return;
  const list = box.name === "type" ? state.types : state.langs;
  const at = list.indexOf(box.value);
  if (box.checked && at < 0) list.push(box.value);
  if (!box.checked && at >= 0) list.splice(at, 1);
  commit(state.q, { exact: state.exact });
});

$("prev").addEventListener("click", () => {
  commit(state.q, { page: state.page - 1, exact: state.exact });
  input.focus();
});
$("next").addEventListener("click", () => { commit(state.q, { page: state.page + 1, exact: state.exact }); });
$("exact").addEventListener("click", e => {
  if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return; // a new tab
  e.preventDefault();
  input.value = $("exact").textContent;
  commit(input.value, { exact: true });
});
$("dym").addEventListener("click", () => {
  input.value = $("dym").textContent;
  commit(input.value);
});

// A click on a result (mouse, middle button or Enter on the link) counts one view of it.
for (const kind of ["click", "auxclick"])
  hitsList.addEventListener(kind, e => {
    const a = e.target.closest("a[data-id]");
    if (a && (kind === "click" || e.button === 1)) reportView(a.dataset.id);
  });

// ---- the language preference: the one cookie ----------------------------------------------

const langSelect = $("lang");
const cookieLang = (document.cookie.match(/(?:^|;\s*)lang=([^;]*)/) || [])[1] || "";
if ([...langSelect.options].some(o => o.value === cookieLang)) langSelect.value = cookieLang;

langSelect.addEventListener("change", async () => {
  const lang = langSelect.value || null;
  try {
    const res = await fetch("/v1/prefs", { method: "POST", headers: { "Content-Type": "application/json" },
                                           body: JSON.stringify({ lang }) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch {
    setStatus("Could not save the language. Try again in a moment.", "error");
    return;
  }
  if (state.q) commit(state.q, { page: state.page, push: false, exact: state.exact }); // ranks by the new language
});

// ---- the address bar ----------------------------------------------------------------------

function fromLocation() {
  const p = new URLSearchParams(location.search);
  const split = v => (v ? v.split(",").filter(Boolean) : []);
  state.types = split(p.get("type"));
  state.langs = split(p.get("lang"));
  const page = Math.min(1000, Math.max(1, parseInt(p.get("page") || "1", 10) || 1));
  input.value = p.get("q") || "";
  commit(input.value, { page, push: false, exact: p.get("typos") === "0" });
}

window.addEventListener("popstate", fromLocation);
fromLocation();
