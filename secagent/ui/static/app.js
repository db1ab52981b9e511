/* Security Agent console: vanilla JS, no build step, nothing loaded from elsewhere.
 * Talks only to the local server: /api/... (forwarded to the audit API, signed there) and /ui/...
 * Pages (hash routes): #/new, #/audits, #/audits/{auditId}, #/findings?status=&severity=&control=&resource=&outcome=,
 * #/sweeps and #/sweeps/{sweepId} (sweeps.js)
 * Never shown: an error's `cause` (a Lambda's cause carries its stack trace) or anything that looks like a trace.
 */
"use strict";

const POLL_MS = 1500;
const LIST_POLL_MS = 5000;
const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"];
const FINISHED = new Set(["SUCCEEDED", "FAILED"]);
const STATUS_TEXT = {
  pending: "pending",
  running: "running",
  retrying: "retrying",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "not run",
};
const STATUS_ICON = {
  pending: "○",
  running: "▶",
  retrying: "↻",
  succeeded: "✓",
  failed: "✕",
  skipped: "–",
};
const SVG_NS = "http://www.w3.org/2000/svg";

const REMEDIATED = new Set(["REMEDIATED", "PARTIALLY_REMEDIATED"]);
const EXEMPTION_MAX_DAYS = 90; // the API refuses an exemption longer than this (docs/workflow.md)
let pollTimer = null;
let pageToken = 0; // bumps on every navigation: late answers for an old page are dropped
let graphCache = null;

/* ---------- DOM helpers (no innerHTML: every text goes through textContent) ---------- */

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  appendAll(el, children);
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === "text") el.textContent = value;
    else el.setAttribute(key, String(value));
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function main() {
  return document.getElementById("main");
}

function time(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

function timeEl(value) {
  return value ? h("time", { datetime: value, text: time(value) }) : "";
}

function seconds(a, b) {
  if (!a || !b) return "";
  const ms = new Date(b) - new Date(a);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "";
}

function duration(total) {
  if (total === null || total === undefined) return "";
  const t = Math.round(total);
  if (t < 60) return `${t} s`;
  const m = Math.floor(t / 60);
  return m < 60 ? `${m} min ${t % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/* A table cell that can stack on a narrow window: its label, then its content in one box. */
function td(label, ...children) {
  return h("td", { "data-label": label }, h("div", { class: "cell" }, ...children));
}

function badge(text, kind) {
  return h("span", { class: `badge badge-${String(kind || text).toLowerCase().replace(/_/g, "-")}`, text });
}

/* Each outcome's style ("ok", "warn", "bad") and wording come from the one Outcome definition
   (secagent/models/outcome.py), served at /ui/outcomes. */
let outcomes = {};

function outcomeBadge(outcome) {
  const known = outcomes[outcome] || { style: "warn", wording: "" };
  const el = badge(outcome.replace(/_/g, " ").toLowerCase(), `outcome-${known.style}`);
  if (known.wording) el.title = known.wording;
  return el;
}

/* Each check's title, severity, controls and fix, from the local registry (/ui/checks): the
   approval view ranks a proposed fix by the worst finding it fixes before any report exists. */
let checksMeta = {};

/* The resource types an audit may name (/ui/resource-types: S3 buckets, EC2 security groups), each
   with its label, what its id looks like, and whether the API exempts it. */
let resourceTypes = [];

function kindOf(resource) {
  const type = (resource || {}).type;
  return resourceTypes.find((k) => k.type === type) || { type, label: type || "resource", exemptible: false };
}

/* The resource's id, then what it is, as a table cell or a summary shows it. */
function resourceCell(resource, ...idChildren) {
  return h("span", { class: "resource" }, ...idChildren, " ", h("span", { class: "small muted resource-type", text: kindOf(resource).label }));
}

function severityIndex(severity) {
  const i = SEVERITIES.indexOf(severity);
  return i < 0 ? SEVERITIES.length : i;
}

function worstSeverity(list) {
  let worst = null;
  for (const sev of list) if (sev && (worst === null || severityIndex(sev) < severityIndex(worst))) worst = sev;
  return worst;
}

function sevBadge(sev) {
  return sev ? badge(sev.toLowerCase(), `sev-${sev}`) : badge("severity unknown", "verdict-unknown");
}

/* A control as reports carry it: "FSBP:S3.2" (schema 1), or {standard, control} with the standard as
   Security Hub names it (schema 2: "aws-foundational-security-best-practices/v/1.0.0", "S3.2"),
   shown the short way either way so counts and filters agree across reports. */
function shortStandard(standard) {
  if (/^aws-foundational-security-best-practices\//.test(standard)) return "FSBP";
  const cis = /^cis-aws-foundations-benchmark\/v\/(\d+\.\d+)/.exec(standard);
  return cis ? `CIS-${cis[1]}` : standard;
}

function controlLabel(control) {
  if (typeof control === "string") return control;
  if (control && typeof control === "object") {
    const standard = shortStandard(String(control.standard || ""));
    const id = String(control.control || "");
    return standard && id ? `${standard}:${id}` : standard || id || JSON.stringify(control);
  }
  return String(control);
}

/* Text from the API or a report, or null when it looks like a stack trace (never shown). */
const TRACE = /Traceback|File "|\.py["',:]|\.py$|stackTrace|errorType|^\s+at\s/m;

function clean(text) {
  if (typeof text !== "string" || !text.trim()) return null;
  return TRACE.test(text) ? null : text;
}

/* A copy without any `cause` (recursively): what the console may print of a step's data. */
function withoutCause(value) {
  if (Array.isArray(value)) return value.map(withoutCause);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (k !== "cause" && k !== "Cause") out[k] = withoutCause(v);
    return out;
  }
  return typeof value === "string" && TRACE.test(value) ? "(withheld: looks like a stack trace)" : value;
}

function pretty(value) {
  return JSON.stringify(withoutCause(value), null, 2);
}

function utcDay(offsetDays) {
  return new Date(Date.now() + (offsetDays || 0) * 86400000).toISOString().slice(0, 10);
}

function codeList(items) {
  return items.flatMap((c, i) => (i ? [", ", h("code", { text: c })] : [h("code", { text: c })]));
}

/* ---------- talking to the local server ---------- */

/* This launch's secret arrives once, in the fragment of the URL `secagent ui` printed
   (#token=...; a fragment is never sent to a server). Keep it in this tab's sessionStorage and
   drop it from the address bar, so it is neither bookmarked nor shown. */
const TOKEN_KEY = "secagent-token";

function adoptLaunchToken() {
  const match = location.hash.match(/^#token=([A-Za-z0-9_-]{16,})$/);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, match[1]);
  history.replaceState(null, "", `${location.pathname}${location.search}#/audits`);
}

function consoleToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

async function call(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["X-Secagent-Token"] = consoleToken(); // the server refuses POSTs without it
    init.headers["X-Secagent-Console"] = "1"; // CSRF defence: the server refuses POSTs without it
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    showBanner("The console's local server cannot be reached. Is `secagent ui` still running?");
    return { status: 0, body: { error: "ConsoleUnreachable", message: String(err) } };
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = { error: "BadResponse", message: `the console answered ${response.status} without JSON` };
  }
  if (response.status === 502 || response.status === 503) {
    showBanner(
      (data && data.message) || "The audit API cannot be reached.",
      response.status === 502 ? "The audit API cannot be reached." : "The console is not configured."
    );
  } else {
    hideBanner();
  }
  return { status: response.status, body: data };
}

function showBanner(message, title) {
  const banner = document.getElementById("banner");
  const heading = title || "The audit API cannot be reached.";
  const detail = message === heading ? "" : `${message.replace(/\.$/, "")}.`;
  const text = `${heading} ${detail}`;
  if (banner.hidden || banner.dataset.text !== text) {
    banner.replaceChildren(h("strong", { text: heading }), " ", detail, " ",
      h("span", { text: "The console keeps retrying." }));
    banner.dataset.text = text;
    banner.hidden = false;
  }
}

function hideBanner() {
  const banner = document.getElementById("banner");
  if (!banner.hidden) {
    banner.hidden = true;
    banner.replaceChildren();
    banner.dataset.text = "";
  }
}

function apiError(result) {
  const body = result.body || {};
  const message = clean(body.message) || clean(body.Message);
  if (result.status === 403 && message === "Missing Authentication Token") {
    return "the deployed API has no such route (is the stack older than this console?)";
  }
  return message || `the API answered ${result.status}`;
}

/* ---------- routing ---------- */

function route() {
  const hash = location.hash.replace(/^#/, "") || "/audits";
  const parts = hash.split("?")[0].split("/").filter(Boolean);
  clearTimeout(pollTimer);
  pageToken += 1;
  const token = pageToken;
  for (const link of document.querySelectorAll("[data-nav]")) {
    const current = link.dataset.nav === parts[0] && parts.length === 1;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (parts[0] === "new") renderNewAudit(token);
  else if (parts[0] === "findings") renderFindings(token);
  else if (parts[0] === "sweeps" && parts[1]) renderSweep(token, decodeURIComponent(parts[1]));
  else if (parts[0] === "sweeps") renderSweeps(token);
  else if (parts[0] === "audits" && parts[1]) renderAudit(token, decodeURIComponent(parts[1]));
  else renderList(token);
}

function setPage(title, ...content) {
  document.title = `${title} · Security Agent console`;
  main().replaceChildren(...content);
}

function focusMain() {
  main().focus({ preventScroll: false });
}

/* ---------- page: start an audit ---------- */

const FIELD_INPUT = {
  "resource.type": "resource-type",
  resource: "resource-id",
  "resource.id": "resource-id",
  mode: "mode-plan",
  approvalTimeoutSeconds: "approval-timeout",
};

function fieldRow(id, label, control, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", `${hintId} ${id}-error`);
  else control.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { class: "field" },
    h("label", { for: id, text: label }),
    hint ? h("p", { class: "hint", id: hintId, text: hint }) : null,
    control,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

function renderNewAudit(token) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  // No type chosen: the console reads it from the id (a security group id is a group, else a bucket).
  const typeSelect = h("select", { id: "resource-type", name: "resourceType" },
    h("option", { value: "", text: "Read it from the id" }),
    ...resourceTypes.map((k) => h("option", { value: k.type, text: `${k.label} (${k.type})`, selected: k.type === params.get("type") })));
  const idInput = h("input", {
    id: "resource-id", name: "resourceId", type: "text", autocomplete: "off", spellcheck: "false",
    value: params.get("resource") || params.get("bucket") || "", "aria-required": "true",
  });
  const idHint = resourceTypes.map((k) => k.idHint).join(", or ");
  const timeoutInput = h("input", {
    id: "approval-timeout", name: "approvalTimeoutSeconds", type: "number", inputmode: "numeric",
    value: "3600", min: "60", step: "60",
  });
  const modeField = h("fieldset", { class: "field", "aria-describedby": "mode-error" },
    h("legend", { text: "Mode" }),
    h("div", { class: "radio" },
      h("input", { type: "radio", id: "mode-plan", name: "mode", value: "plan", checked: true }),
      h("label", { for: "mode-plan" }, h("strong", { text: "Plan" }), " — find problems and propose fixes; change nothing")),
    h("div", { class: "radio" },
      h("input", { type: "radio", id: "mode-remediate", name: "mode", value: "remediate" }),
      h("label", { for: "mode-remediate" }, h("strong", { text: "Remediate" }),
        " — apply the fixes a person approves, then verify them")),
    h("p", { class: "field-error", id: "mode-error", hidden: true }));
  const submit = h("button", { type: "submit", class: "primary", text: "Start audit" });
  const form = h("form", { class: "card form", novalidate: true, "aria-labelledby": "new-title" },
    fieldRow("resource-type", "Resource type", typeSelect),
    fieldRow("resource-id", "Bucket name or security group id", idInput,
      `The resource to audit: ${idHint || "its name or id"}. Its type is read from the id unless you choose one.`),
    modeField,
    fieldRow("approval-timeout", "Approval timeout (seconds)", timeoutInput,
      "How long a remediate audit waits for a person to approve (60 s to 7 days)."),
    h("div", { class: "actions" }, submit),
    h("p", { class: "field-error", id: "form-error", hidden: true }),
    status);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const resource = { id: idInput.value.trim() };
    if (typeSelect.value) resource.type = typeSelect.value;
    const body = { resource, mode: form.querySelector("input[name=mode]:checked").value };
    const timeoutText = timeoutInput.value.trim();
    if (timeoutText !== "") body.approvalTimeoutSeconds = Number(timeoutText);
    submit.disabled = true;
    status.textContent = "Starting the audit…";
    const result = await call("POST", "/api/audits", body);
    submit.disabled = false;
    if (token !== pageToken) return;
    if (result.status === 202 && result.body && result.body.auditId) {
      status.textContent = "Audit started.";
      location.hash = `#/audits/${encodeURIComponent(result.body.auditId)}`;
      return;
    }
    status.textContent = "";
    const field = result.body && result.body.field;
    const inputId = FIELD_INPUT[field] || null;
    const message = apiError(result);
    // "resource.id: ... is not a valid ..." shown beside the id field: the path is redundant there.
    showFieldError(form, inputId, inputId && field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message);
  });

  setPage("Start an audit",
    h("h1", { id: "new-title", text: "Start an audit" }),
    h("p", { class: "lead", text: "The agent discovers the resource's configuration, checks it against AWS Foundational Security Best Practices and CIS, and proposes exact fixes." }),
    form);
  focusMain();
}

function clearFieldErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/* The message beside its field (the form's own error line without one), the field focused. */
function showFieldError(form, inputId, message, formErrorId = "form-error") {
  const errorId = inputId === "mode-plan" ? "mode-error" : inputId ? `${inputId}-error` : formErrorId;
  const errorEl = form.querySelector(`#${errorId}`);
  errorEl.replaceChildren(h("span", { class: "visually-hidden", text: "Error: " }), message);
  errorEl.hidden = false;
  const input = inputId ? form.querySelector(`#${inputId}`) : null;
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } else {
    errorEl.setAttribute("tabindex", "-1");
    errorEl.focus();
  }
}

/* ---------- page: list of audits ---------- */

function renderList(token) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const statusSelect = h("select", { id: "filter-status", name: "status" },
    ...["", "RUNNING", "AWAITING_APPROVAL", "SUCCEEDED", "FAILED"].map((v) =>
      h("option", { value: v, text: v ? v.replace(/_/g, " ").toLowerCase() : "any status", selected: v === (params.get("status") || "") })));
  const resourceInput = h("input", { id: "filter-resource", name: "resource", type: "search", value: params.get("resource") || "", autocomplete: "off" });
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter audits" },
    h("div", { class: "field inline" }, h("label", { for: "filter-status", text: "Status" }), statusSelect),
    h("div", { class: "field inline" }, h("label", { for: "filter-resource", text: "Resource" }), resourceInput),
    h("button", { type: "submit", text: "Filter" }));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    if (statusSelect.value) q.set("status", statusSelect.value);
    if (resourceInput.value.trim()) q.set("resource", resourceInput.value.trim());
    location.hash = `#/audits${q.toString() ? `?${q}` : ""}`;
  });
  const region = h("div", { id: "audit-list", "aria-live": "polite", "aria-busy": "true" }, h("p", { text: "Loading audits…" }));
  setPage("Audits",
    h("div", { class: "page-head" },
      h("h1", { text: "Audits" }),
      h("a", { class: "button primary", href: "#/new", text: "Start an audit" })),
    filters, region);
  focusMain();

  let audits = [];
  let nextToken = null;
  let shown = "";

  async function load(append) {
    const q = new URLSearchParams();
    if (params.get("status")) q.set("status", params.get("status"));
    if (params.get("resource")) q.set("resource", params.get("resource"));
    q.set("limit", "20");
    if (append && nextToken) q.set("nextToken", nextToken);
    const result = await call("GET", `/api/audits?${q}`);
    if (token !== pageToken) return;
    region.setAttribute("aria-busy", "false");
    if (result.status !== 200) {
      const why = result.status === 502 || result.status === 503 || result.status === 0
        ? "No audits to show while the API cannot be reached (see the message above)."
        : `Could not list audits: ${apiError(result)}`;
      if (!audits.length) region.replaceChildren(h("p", { class: "error-text", text: why }));
    } else {
      const page = result.body.audits || [];
      audits = append ? audits.concat(page) : mergeFirstPage(audits, page);
      if (append || nextToken === null) nextToken = result.body.nextToken || null;
      const key = JSON.stringify([audits, nextToken]);
      if (key !== shown) {
        shown = key;
        region.replaceChildren(listTable(audits, nextToken, () => load(true)));
      }
    }
    pollTimer = setTimeout(() => load(false), LIST_POLL_MS);
  }

  function mergeFirstPage(current, page) {
    // Refresh the first page in place, keep the rows loaded with "More".
    const seen = new Set(page.map((a) => a.auditId));
    return page.concat(current.slice(page.length).filter((a) => !seen.has(a.auditId)));
  }

  load(false);
}

function listTable(audits, nextToken, more) {
  const moreButton = nextToken ? h("p", {}, h("button", { type: "button", onclick: more, text: "More audits" })) : null;
  if (!audits.length && nextToken) {
    /* The API filters the whole history a part at a time: none matched in this part, more to read. */
    return h("div", {}, h("p", { class: "empty", text: "No matching audits in the part of the history read so far." }), moreButton);
  }
  if (!audits.length) {
    return h("p", { class: "empty" }, "No audits yet. ", h("a", { href: "#/new", text: "Start one" }), ".");
  }
  const rows = audits.map((a) =>
    h("tr", {},
      td("Resource", resourceCell(a.resource,
        h("a", { href: `#/audits/${encodeURIComponent(a.auditId)}`, text: (a.resource && a.resource.id) || a.auditId }))),
      td("Status", badge(a.status.replace(/_/g, " ").toLowerCase(), a.status)),
      td("Outcome", a.outcome ? outcomeBadge(a.outcome) : "—"),
      td("Mode", a.mode || ""),
      td("Started", timeEl(a.startedAt)),
      td("Audit id", h("code", { class: "audit-id", text: a.auditId }))));
  return h("div", {},
    h("table", { class: "table stack" },
      h("caption", { class: "visually-hidden", text: "Audits, newest first" }),
      h("thead", {}, h("tr", {}, ...["Resource", "Status", "Outcome", "Mode", "Started", "Audit id"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...rows)),
    moreButton);
}

/* ---------- page: one audit ---------- */

function renderAudit(token, auditId) {
  selectedState = null;
  graphAudit = null;
  graphStatuses = {};
  const state = { sections: {}, announced: {}, audit: null, decided: false };
  const heading = h("h1", {}, "Audit ", h("span", { class: "muted", text: "…" }));
  const summary = h("section", { "aria-labelledby": "summary-title", class: "card" },
    h("h2", { id: "summary-title", class: "visually-hidden", text: "Summary" }), h("p", { text: "Loading…" }));
  const live = h("p", { class: "visually-hidden", "aria-live": "polite", id: "step-announcer" });
  const approval = h("div", { id: "approval-slot" });
  const decisionNote = h("p", { id: "decision-note", class: "decision-note", role: "status", hidden: true });
  const noteDecision = (text) => {
    decisionNote.textContent = text;
    decisionNote.hidden = false;
  };
  const failure = h("div", { id: "failure-slot" });
  const steps = h("section", { class: "card", "aria-labelledby": "steps-title" },
    h("h2", { id: "steps-title", text: "Steps" }),
    h("p", { id: "current-step", class: "current-step", "aria-live": "polite" }),
    h("ol", { class: "timeline", id: "timeline" }));
  const graph = h("section", { class: "card graph-card", "aria-labelledby": "graph-title" },
    h("h2", { id: "graph-title", text: "Workflow" }),
    h("p", { class: "hint", text: "The steps of statemachine/audit.asl.json, each coloured by what this audit's executions did. Pass states that only move data are the words on the arrows; the failure bookkeeping is folded into Audit Failed. Select a step to see its input and output." }),
    graphLegend(),
    h("div", { class: "graph-scroll", id: "graph", tabindex: "0", role: "region", "aria-label": "Workflow graph (scrollable)" }, h("p", { text: "Drawing the workflow…" })),
    h("section", { class: "graph-panel", id: "graph-panel", "aria-live": "polite", "aria-labelledby": "graph-panel-title" },
      h("h3", { id: "graph-panel-title", text: "Selected step" }),
      h("p", { class: "hint", text: "Select a step in the graph (click, or Tab to it and press Enter) to see what it takes and what it gave." })));
  const report = h("div", { id: "report-slot" });
  setPage(`Audit ${auditId}`,
    h("p", { class: "crumbs" }, h("a", { href: "#/audits", text: "← All audits" }), " · ", h("a", { href: "#/findings", text: "Findings" })),
    heading, live, summary, decisionNote, failure, approval, report,
    h("div", { class: "audit-grid" }, steps, graph));
  focusMain();

  async function poll() {
    const result = await call("GET", `/api/audits/${encodeURIComponent(auditId)}`);
    if (token !== pageToken) return;
    if (result.status === 404) {
      summary.replaceChildren(h("p", { class: "error-text", text: `No audit ${auditId}: ${apiError(result)}` }));
      return;
    }
    if (result.status === 200) {
      const audit = result.body;
      state.audit = audit;
      const resource = (audit.resource && audit.resource.id) || "";
      heading.replaceChildren(audit.mode === "rollback" ? "Rollback of " : "Audit of ",
        resourceCell(audit.resource, h("span", { class: "resource-name", text: resource })));
      document.title = `${resource} (${audit.status}) · Security Agent console`;
      update("summary", summary, audit, () => summaryView(audit));
      updateTimeline(audit);
      update("failure", failure, [audit.status, audit.failure, audit.error, audit.report && audit.report.failure], () => failureView(audit, poll));
      update("approval", approval, [audit.status, audit.pendingPlans, audit.planDigest],
        () => approvalView(audit, token, poll, noteDecision));
      update("report", report, [audit.report], () => reportView(audit, token));
      await drawGraph(audit, token);
      if (token !== pageToken) return;
      if (FINISHED.has(audit.status) && audit.report) return; // nothing more will change
    }
    pollTimer = setTimeout(poll, POLL_MS);
  }

  function update(name, slot, data, view) {
    const key = JSON.stringify(data);
    if (state.sections[name] === key) return;
    state.sections[name] = key;
    slot.replaceChildren(...[].concat(view() || []));
  }

  function updateTimeline(audit) {
    const list = document.getElementById("timeline");
    const key = JSON.stringify(audit.timeline);
    if (state.sections.timeline !== key) {
      state.sections.timeline = key;
      list.replaceChildren(...(audit.timeline || []).map(stepView));
    }
    const current = document.getElementById("current-step");
    const text = FINISHED.has(audit.status)
      ? `Finished: ${audit.status.toLowerCase()}${audit.outcome ? `, outcome ${audit.outcome}` : ""}.`
      : audit.status === "AWAITING_APPROVAL"
        ? "Waiting for a person to approve or reject the plans."
        : `Running: ${audit.currentStep || "starting"}.`;
    if (current.textContent !== text) current.textContent = text;
    // Announce each step's change of status once.
    const changes = [];
    for (const step of audit.timeline || []) {
      const was = state.announced[step.name];
      if (was && was !== step.status) changes.push(`${step.name} ${STATUS_TEXT[step.status] || step.status}`);
      state.announced[step.name] = step.status;
    }
    if (changes.length) live.textContent = `${changes.join(". ")}.`;
  }

  poll();
}

function summaryView(audit) {
  const resource = audit.resource || {};
  const rows = [
    ["Status", badge(audit.status.replace(/_/g, " ").toLowerCase(), audit.status)],
    ["Outcome", audit.outcome ? outcomeBadge(audit.outcome) : "—"],
    ["Resource", resourceCell(resource, h("code", { text: resource.id || "" }), ` (${resource.type || "?"})`)],
    ["Mode", audit.mode || ""],
    ["Started", timeEl(audit.startedAt)],
    [FINISHED.has(audit.status) ? "Took" : "Running for", duration(audit.elapsedSeconds)],
    ["Audit id", h("code", { class: "audit-id", text: audit.auditId })],
  ];
  const undoes = audit.rollbackOf || (audit.report && audit.report.rollbackOf);
  if (undoes) rows.push(["Rolls back", h("a", { href: `#/audits/${encodeURIComponent(undoes)}` }, h("code", { class: "audit-id", text: undoes }))]);
  if (audit.executions && audit.executions.length > 1) {
    rows.push(["Executions", audit.executions.map((e) => `${e.name} (${e.status.toLowerCase()})`).join(", ")]);
  }
  return h("dl", { class: "summary" }, ...rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
}

/* A step's error: its name and message, never its cause (a Lambda's cause is its stack trace). */
function errorText(error) {
  if (!error) return null;
  const name = clean(error.error);
  const message = clean(error.message);
  if (!name && !message) return null;
  return [name ? h("strong", { text: name }) : null, name && message ? ": " : "", message || ""];
}

function stepView(step) {
  const status = step.status || "pending";
  const details = [];
  if (step.attempts > 1) details.push(h("span", { class: "retries" }, `${step.attempts} attempts (${step.attempts - 1} ${step.attempts === 2 ? "retry" : "retries"})`));
  const took = seconds(step.started, step.ended);
  if (took) details.push(h("span", { text: took }));
  if (step.reused) details.push(h("span", { class: "reused", text: "reused from a checkpoint" }));
  const error = errorText(step.error);
  return h("li", { class: `step step-${status}`, "data-step": step.name, "data-status": status },
    h("span", { class: "step-icon", "aria-hidden": "true", text: STATUS_ICON[status] || "•" }),
    h("div", { class: "step-body" },
      h("span", { class: "step-name", text: step.name }), " ",
      h("span", { class: "step-status", text: STATUS_TEXT[status] || status }),
      details.length ? h("div", { class: "step-details" }, ...details.flatMap((d, i) => (i ? [" · ", d] : [d]))) : null,
      error ? h("div", { class: "step-error" }, error) : null));
}

/* What the console says about a failed audit. The API's `failure` ({step, kind, message,
   correlationId, resumable}) when it sends one; before that, the failed step and the error's
   name only (never `cause`). */
function failureOf(audit) {
  const f = audit.failure;
  if (f && typeof f === "object") {
    return {
      step: f.step || null,
      error: clean(f.error),
      message: clean(f.message),
      correlationId: f.correlationId || null,
      resumable: f.resumable === true,
      kind: f.kind || null,
    };
  }
  const reported = (audit.report && audit.report.failure) || {};
  const failedStep = (audit.timeline || []).find((st) => st.status === "failed");
  const name = clean(reported.error) || clean(audit.error);
  return {
    step: reported.step || (failedStep && failedStep.name) || null,
    error: name,
    message: name ? `The step ended with the error ${name}.` : null,
    correlationId: null,
    resumable: true, // this API does not say: it decides when asked (a 409 otherwise)
    kind: null,
  };
}

function failureView(audit, poll) {
  // A failed audit; or one that ended RESOURCE_NOT_FOUND or ACCESS_DENIED, whose report says
  // where and why (nothing to resume: a new audit once the resource is there, or the access granted).
  const stopped = audit.status === "SUCCEEDED" && audit.report && audit.report.failure;
  if (audit.status !== "FAILED" && !stopped) return [];
  const failure = stopped ? { ...failureOf({ failure: audit.report.failure }), resumable: false } : failureOf(audit);
  const note = h("p", { role: "status", class: "form-status" });
  let button = null;
  if (failure.resumable) {
    button = h("button", { type: "button", text: "Resume from the failed step" });
    button.addEventListener("click", async () => {
      button.disabled = true;
      const result = await call("POST", `/api/audits/${encodeURIComponent(audit.auditId)}/resume`, {});
      note.textContent = result.status >= 200 && result.status < 300 ? "Resumed: a new execution starts from the failed step." : `Could not resume: ${apiError(result)}`;
      button.disabled = false;
      clearTimeout(pollTimer);
      poll();
    });
  }
  const quote = failure.correlationId
    ? h("p", { class: "correlation" }, "Correlation id ", h("code", { text: failure.correlationId }),
      ": quote this id to whoever runs the stack (it finds this failure in the logs).")
    : h("p", { class: "correlation" }, "Audit id ", h("code", { text: audit.auditId }),
      ": quote this id to whoever runs the stack.");
  return h("section", { class: "card failure", "aria-labelledby": "failure-title" },
    h("h2", { id: "failure-title", text: stopped
      ? `The audit stopped at ${failure.step || "a step"}: ${audit.report.outcome}`
      : failure.step ? `The audit failed at ${failure.step}` : "The audit failed" }),
    h("p", { class: "failure-message", text: failure.message || "The audit stopped with an error." }),
    quote,
    button || h("p", { class: "hint", text: "This failure cannot be resumed: start a new audit once the cause is fixed." }),
    note);
}

/* ---------- approval ---------- */

/* The highest severity of the findings a plan fixes: the API's (from this audit's analysis) when it
   says, else the checks' own from the registry. */
function planSeverity(plan) {
  if (SEVERITIES.includes(plan.severity)) return plan.severity;
  return worstSeverity((plan.checkIds || []).map((c) => (checksMeta[c] || {}).severity));
}

function approvalView(audit, token, poll, noteDecision) {
  if (audit.status !== "AWAITING_APPROVAL" || !audit.pendingPlans) return [];
  const plans = [...audit.pendingPlans].sort((a, b) => (a.order || 0) - (b.order || 0));
  const defaults = audit.defaultRemediationIds || plans.filter((p) => p.approvedByDefault !== false).map((p) => p.remediationId);
  const comment = h("textarea", { id: "approval-comment", name: "comment", rows: "2", maxlength: "1000", "aria-describedby": "approval-comment-hint" });
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const approve = h("button", { type: "button", class: "primary", text: "Approve" });
  const reject = h("button", { type: "button", class: "danger", text: "Reject" });
  const checks = [];

  const planItem = (plan, index, sev) => {
    const id = `plan-${index}`;
    const inDefault = defaults.includes(plan.remediationId);
    // A plain approval covers the reversible plans scoped to the resource; the others need naming.
    const box = h("input", { type: "checkbox", id: `${id}-include`, checked: inDefault, value: plan.remediationId });
    checks.push(box);
    const manual = plan.manualInputs && plan.manualInputs.length;
    return h("li", { class: "plan", "data-remediation": plan.remediationId, "data-severity": sev || "" },
      h("div", { class: "plan-head" },
        box,
        h("label", { for: `${id}-include` }, h("strong", { text: plan.title }))),
      h("p", { class: "plan-meta" },
        sevBadge(sev), " ",
        h("code", { class: "remediation-id", text: plan.remediationId }), " ",
        plan.reversible ? badge("reversible", "applied") : badge("not reversible", "failed"), " ",
        inDefault ? badge("in the plain approval", "proposed") : badge("needs naming", "awaiting-approval"),
        h("span", { class: "plan-checks" }, audit.mode === "rollback" ? " undoes the fix for " : " fixes ", ...codeList(plan.checkIds || []))),
      plan.namedOnlyReason
        ? h("p", { class: "manual", text: `Not included unless you tick it: ${plan.namedOnlyReason.replace(/; approve it by naming its id$/, "")}.` }) : null,
      manual ? h("p", { class: "manual", text: `Needs a person: ${plan.manualInputs.join(", ")} (Apply skips it).` }) : null,
      h("details", { class: "plan-details" },
        h("summary", { text: "Command, risk and rollback" }),
        h("p", { class: "plan-label", id: `${id}-cmd`, text: "AWS CLI command" }),
        h("pre", { class: "command", tabindex: "0", "aria-labelledby": `${id}-cmd` }, h("code", { text: plan.cliCommand || "" })),
        h("p", { class: "risk" }, h("strong", { text: "Risk: " }), plan.risk || "not stated",
          ` (${plan.reversible ? "reversible" : "not reversible"})`),
        plan.rollbackCliCommand ? [h("p", { class: "plan-label", text: "Rollback command" }), h("pre", { class: "command" }, h("code", { text: plan.rollbackCliCommand }))] : null));
  };

  const [one, many] = audit.mode === "rollback" ? ["rollback", "rollbacks"] : ["fix", "fixes"];
  let index = 0;
  const groups = [...SEVERITIES, null].map((sev) => {
    const members = plans.filter((p) => (planSeverity(p) || null) === sev);
    if (!members.length) return null;
    const title = sev ? `${sev.charAt(0)}${sev.slice(1).toLowerCase()}` : "Severity unknown";
    const gid = `plans-${(sev || "unknown").toLowerCase()}`;
    return h("section", { class: "plan-group", "aria-labelledby": gid, "data-severity": sev || "" },
      h("h3", { id: gid }, sevBadge(sev), ` ${title}: ${members.length} ${members.length === 1 ? one : many}`),
      h("ul", { class: "plans" }, ...members.map((p) => planItem(p, index++, sev))));
  }).filter(Boolean);

  async function decide(decision) {
    const body = { decision };
    const comment_ = comment.value.trim();
    if (comment_) body.comment = comment_;
    if (decision === "approve") {
      const chosen = checks.filter((c) => c.checked).map((c) => c.value);
      if (!chosen.length) {
        status.textContent = "Choose at least one plan to approve, or reject.";
        return;
      }
      const isDefault = chosen.length === defaults.length && chosen.every((c) => defaults.includes(c));
      if (isDefault) {
        body.planDigest = audit.planDigest;
      } else {
        // Another selection is re-planned alone from the snapshot: approve exactly its digest.
        approve.disabled = reject.disabled = true;
        status.textContent = "Checking what this selection applies…";
        const query = encodeURIComponent(chosen.join(","));
        const preview = await call("GET", `/api/audits/${encodeURIComponent(audit.auditId)}/approval?remediationIds=${query}`);
        if (token !== pageToken) return;
        if (preview.status !== 200) {
          status.textContent = `Could not prepare the approval: ${apiError(preview)}`;
          approve.disabled = reject.disabled = false;
          return;
        }
        body.remediationIds = preview.body.remediationIds;
        body.planDigest = preview.body.planDigest;
      }
    }
    approve.disabled = reject.disabled = true;
    status.textContent = decision === "approve" ? "Sending the approval…" : "Sending the rejection…";
    const result = await call("POST", `/api/audits/${encodeURIComponent(audit.auditId)}/approval`, body);
    if (token !== pageToken) return;
    if (result.status === 200) {
      status.textContent = decision === "approve" ? "Approved. The agent is applying the fixes." : "Rejected. Nothing will be changed.";
      noteDecision(`You ${decision === "approve" ? "approved" : "rejected"} the proposed fixes${body.remediationIds ? ` (${body.remediationIds.length} of ${checks.length})` : ""}.`);
      clearTimeout(pollTimer);
      pollTimer = setTimeout(poll, 300);
    } else if (result.status === 403) {
      status.replaceChildren(h("strong", { text: "Not yours to decide. " }), apiError(result),
        audit.mode === "rollback" ? " A rollback is approved by a person other than the one who asked for it." : "");
      approve.disabled = reject.disabled = false;
    } else {
      status.textContent = `Could not record the decision: ${apiError(result)}`;
      approve.disabled = reject.disabled = false;
    }
  }
  approve.addEventListener("click", () => decide("approve"));
  reject.addEventListener("click", () => decide("reject"));

  return h("section", { class: "card approval", "aria-labelledby": "approval-title" },
    h("h2", { id: "approval-title", text: `Waiting for approval: ${plans.length} ${plans.length === 1 ? one : many} proposed` }),
    h("p", { class: "hint" }, audit.mode === "rollback" ? "Each undoes a fix an earlier audit applied, grouped by the worst finding it fixed. " : "Grouped by the worst finding each fixes. ",
      "The ticked ones are the plain approval (reversible, scoped to the audited resource); the others apply only when you tick them. ",
      audit.approvalExpiresAt ? ["Decide before ", timeEl(audit.approvalExpiresAt), "; after that the audit ends as APPROVAL_EXPIRED and changes nothing."] : ""),
    ...groups,
    h("div", { class: "field" },
      h("label", { for: "approval-comment", text: "Comment (optional)" }),
      h("p", { class: "hint", id: "approval-comment-hint", text: "Recorded in the report with your decision." }),
      comment),
    h("div", { class: "actions" }, approve, reject),
    status);
}

/* ---------- report ---------- */

function controlsList(controls) {
  return h("ul", { class: "controls" }, ...(controls || []).map((c) => h("li", { text: controlLabel(c) })));
}

function reportView(audit, token) {
  const report = audit.report;
  if (!report) return [];
  const resource = report.resource || audit.resource || {};
  const after = {};
  const comparison = (report.verification && report.verification.comparison) || [];
  for (const c of comparison) after[c.checkId] = c.after;
  const findings = report.findings || [];
  const groups = SEVERITIES.map((sev) => [sev, findings.filter((f) => f.severity === sev)]).filter(([, list]) => list.length);
  const failing = findings.filter((f) => f.status === "FAIL").length;

  const findingTable = (rows) => h("table", { class: `table stack findings${comparison.length ? " with-after" : ""}` },
    h("thead", {}, h("tr", {}, ...["Check", "Before", comparison.length ? "After Verify" : null, "Controls"].filter(Boolean).map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, ...rows.map((f) => {
      const now = after[f.checkId] || f.status;
      return h("tr", { "data-check": f.checkId },
        td("Check", h("span", { class: "check-title", text: f.title }), h("br"), h("code", { text: f.checkId }),
          now === "FAIL" ? exemptAction(resource, f) : null,
          f.status === "EXEMPT" ? exemptionNote(f) : null),
        td("Before", verdict(f.status)),
        comparison.length ? td("After Verify", after[f.checkId] ? verdict(after[f.checkId]) : "—") : null,
        td("Controls", controlsList(f.controls)));
    })));
  const findingGroups = groups.map(([sev, list]) => {
    const byId = (a, b) => a.checkId.localeCompare(b.checkId);
    const open = list.filter((f) => f.status !== "PASS").sort(byId);
    const passed = list.filter((f) => f.status === "PASS").sort(byId);
    return h("section", { class: `severity-group sev-${sev.toLowerCase()}`, "aria-labelledby": `sev-${sev}` },
      h("h4", { id: `sev-${sev}` }, badge(sev.toLowerCase(), `sev-${sev}`), ` ${list.length} ${list.length === 1 ? "check" : "checks"}, ${open.length} failing`),
      open.length ? findingTable(open) : null,
      passed.length ? h("details", { class: "passed" },
        h("summary", { text: `${passed.length} passing ${passed.length === 1 ? "check" : "checks"}` }),
        findingTable(passed)) : null);
  });

  const remediations = (report.remediations || []).map((r) => h("tr", {},
    td("#", r.plan.order),
    td("Fix", r.plan.title, h("br"), h("code", { class: "small", text: r.plan.cliCommand })),
    td("Approved", r.approved ? "yes" : "no"),
    td("Result", badge(r.result.toLowerCase().replace(/_/g, " "), r.result),
      r.applied && clean(r.applied.error) ? h("div", { class: "small", text: clean(r.applied.error) }) : null)));

  const verification = report.verification
    ? h("section", { "aria-labelledby": "verify-title" },
      h("h3", { id: "verify-title", text: "Before and after (Verify)" }),
      h("p", {}, report.verification.allFixed ? "Every check an applied fix targeted now passes. " : "Some fixes did not take. ",
        (report.verification.stillFailing || []).length
          ? ["Still failing: ", ...codeList(report.verification.stillFailing), "."]
          : "Nothing is still failing."),
      h("table", { class: "table stack" },
        h("thead", {}, h("tr", {}, ...["Check", "Before", "After", "Fixed"].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, ...comparison.filter((c) => c.before !== c.after || c.fixed).map((c) => h("tr", {},
          td("Check", c.title, h("br"), h("code", { text: c.checkId })),
          td("Before", verdict(c.before)),
          td("After", verdict(c.after)),
          td("Fixed", c.fixed ? "yes" : "no"))))))
    : null;

  const approval = report.approval
    ? h("p", {}, `Decision: ${report.approval.decision}`, report.approval.approver ? ` by ${report.approval.approver}` : "",
      report.approval.decidedAt ? [" at ", timeEl(report.approval.decidedAt)] : "",
      report.approval.comment ? ` — “${report.approval.comment}”` : "")
    : null;

  const failureText = report.failure ? clean(report.failure.message) || clean(report.failure.error) : null;
  const failure = report.failure
    ? h("p", { class: "error-text" }, `Failed at ${report.failure.step}${failureText ? `: ${failureText}` : ""}${/[.!?]$/.test(failureText || "") ? "" : "."}`)
    : null;

  return h("section", { class: "card report", "aria-labelledby": "report-title" },
    h("div", { class: "page-head" },
      h("h2", { id: "report-title", text: "Report" }),
      h("a", { class: "button", href: `/ui/audits/${encodeURIComponent(audit.auditId)}/report.json`, download: `audit-${audit.auditId}.json`, text: "Download JSON" })),
    h("p", { class: `outcome outcome-${(outcomes[report.outcome] || { style: "warn" }).style}` }, h("span", { text: "Outcome: " }), h("strong", { text: report.outcome.replace(/_/g, " ") }),
      ` — ${(outcomes[report.outcome] || {}).wording || ""}; ${findings.length} checks, ${failing} failing before any fix.`),
    report.rollbackOf ? h("p", {}, "This audit rolled back the fixes of audit ", h("a", { href: `#/audits/${encodeURIComponent(report.rollbackOf)}` }, h("code", { text: report.rollbackOf })), ".") : null,
    approval,
    failure,
    REMEDIATED.has(report.outcome) && report.mode !== "rollback" ? rollbackAction(audit, token) : null,
    verification,
    remediations.length ? h("section", { "aria-labelledby": "remediations-title" },
      h("h3", { id: "remediations-title", text: "Fixes" }),
      h("table", { class: "table stack" },
        h("thead", {}, h("tr", {}, ...["#", "Fix", "Approved", "Result"].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, ...remediations))) : null,
    h("section", { "aria-labelledby": "findings-title" },
      h("h3", { id: "findings-title", text: "Findings by severity" }),
      ...findingGroups));
}

/* Undo an audit's applied fixes: POST /audits/{id}/rollback starts a new audit whose plans restore
   what the fixes replaced; it waits for a person other than the one who asks (the API enforces it). */
function rollbackAction(audit, token) {
  const button = h("button", { type: "button", class: "danger", id: "rollback-button", text: "Roll back the applied fixes" });
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Starting the rollback…";
    const result = await call("POST", `/api/audits/${encodeURIComponent(audit.auditId)}/rollback`, {});
    if (token !== pageToken) return;
    if (result.status === 202 && result.body && result.body.auditId) {
      status.textContent = "Rollback started.";
      location.hash = `#/audits/${encodeURIComponent(result.body.auditId)}`;
      return;
    }
    button.disabled = false;
    status.replaceChildren(h("strong", { text: result.status === 403 ? "Not allowed. " : "Could not start the rollback. " }), apiError(result));
  });
  return h("section", { class: "rollback", "aria-labelledby": "rollback-title" },
    h("h3", { id: "rollback-title", text: "Undo these fixes" }),
    h("p", { class: "hint", text: "Starts a new audit whose plans restore what the applied fixes replaced (newest first). Nothing changes until a person other than you approves it; then it is rechecked, applied and verified like any fix." }),
    h("div", { class: "actions" }, button),
    status);
}

function verdict(value) {
  if (!value) return "—";
  const label = { PASS: "pass", FAIL: "fail", UNKNOWN: "unknown", EXEMPT: "exempt" }[value] || value.toLowerCase();
  return badge(label, `verdict-${value}`);
}

/* ---------- exemptions ---------- */

function exemptionNote(finding) {
  const ex = (finding.evidence || {}).exemption;
  if (!ex) return null;
  return h("p", { class: "exemption-note small" },
    `Exempt until ${ex.until || "no end date"}`, ex.reason ? ` — “${ex.reason}”` : "",
    ex.grantedBy ? ` (granted by ${ex.grantedBy}${ex.requestedBy ? `, asked by ${ex.requestedBy}` : ""}${ex.source ? `, ${ex.source}` : ""})` : ex.source ? ` (${ex.source})` : "");
}

/* "Exempt…" on a failing finding of a bucket (the API exempts buckets only): a small form (reason,
   until: required, at most 90 days ahead) for POST /exemptions. A CRITICAL finding only the
   deploy-time allow-list may exempt. */
function exemptAction(resource, finding, onDone) {
  const bucket = (resource || {}).id;
  if (!bucket || !kindOf(resource).exemptible) return null;
  if (finding.severity === "CRITICAL") {
    return h("p", { class: "hint small exempt-critical", text: "A critical finding can be exempted only by the deploy-time allow-list." });
  }
  const slot = h("div", { class: "exempt-slot" });
  const open = h("button", { type: "button", class: "small-button", "aria-expanded": "false", text: "Exempt…" });
  open.addEventListener("click", () => {
    if (slot.firstChild) {
      slot.replaceChildren();
      open.setAttribute("aria-expanded", "false");
      return;
    }
    open.setAttribute("aria-expanded", "true");
    slot.replaceChildren(exemptForm(bucket, finding, () => {
      open.setAttribute("aria-expanded", "false");
      open.hidden = true;
      if (onDone) onDone();
    }, () => {
      slot.replaceChildren();
      open.setAttribute("aria-expanded", "false");
      open.focus();
    }));
    slot.querySelector("textarea").focus();
  });
  return h("div", { class: "exempt" }, open, slot);
}

let exemptFormCount = 0;

function exemptForm(bucket, finding, onDone, onCancel) {
  exemptFormCount += 1;
  const id = `exempt-${exemptFormCount}`;
  const reason = h("textarea", { id: `${id}-reason`, name: "reason", rows: "2", maxlength: "500", "aria-required": "true" });
  const until = h("input", { id: `${id}-until`, name: "until", type: "date", min: utcDay(0), max: utcDay(EXEMPTION_MAX_DAYS), "aria-required": "true" });
  const submit = h("button", { type: "submit", class: "primary", text: "Exempt" });
  const cancel = h("button", { type: "button", text: "Cancel" });
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const form = h("form", { class: "exempt-form", novalidate: true, "aria-label": `Exempt ${finding.checkId} on ${bucket}` },
    h("p", {}, "Exempt ", h("code", { text: finding.checkId }), " on ", h("code", { text: bucket }),
      ": the next audit reports it EXEMPT instead of FAIL, until the day you give."),
    fieldRow(`${id}-reason`, "Reason", reason, "Required: why this finding is accepted (recorded with your name)."),
    fieldRow(`${id}-until`, "Until (UTC day)", until, `Required: the last day it applies, at most ${EXEMPTION_MAX_DAYS} days ahead (by ${utcDay(EXEMPTION_MAX_DAYS)}).`),
    h("div", { class: "actions" }, submit, cancel),
    h("p", { class: "field-error", id: `${id}-form-error`, hidden: true }),
    status);
  const fieldIds = { reason: `${id}-reason`, until: `${id}-until`, bucket: null, checkIds: null };
  const showError = (field, message) => showFieldError(form, fieldIds[field] || null, message, `${id}-form-error`);
  cancel.addEventListener("click", onCancel);
  for (const input of [reason, until]) { // an error goes once its field is edited
    input.addEventListener("input", () => {
      input.removeAttribute("aria-invalid");
      const errorEl = form.querySelector(`#${input.id}-error`);
      errorEl.hidden = true;
      errorEl.textContent = "";
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const text = reason.value.trim();
    const day = until.value;
    if (!text) return showError("reason", "Give a reason: an exemption without one is refused.");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return showError("until", "Give the last day the exemption applies (YYYY-MM-DD).");
    if (day < utcDay(0)) return showError("until", "That day has passed: give today or a later day.");
    if (day > utcDay(EXEMPTION_MAX_DAYS)) return showError("until", `At most ${EXEMPTION_MAX_DAYS} days ahead: ${utcDay(EXEMPTION_MAX_DAYS)} at the latest.`);
    submit.disabled = true;
    status.textContent = "Sending the request…";
    const result = await call("POST", "/api/exemptions", { bucket, checkIds: [finding.checkId], reason: text, until: day });
    submit.disabled = false;
    status.textContent = "";
    if (result.status === 201 || result.status === 200) {
      const ex = result.body || {};
      form.replaceWith(h("div", { class: "decision-note exempt-done", role: "status" },
        h("p", {}, h("strong", { text: "Exemption requested" }), ` until ${ex.until || day}`,
          ex.exemptionId ? [" (", h("code", { text: ex.exemptionId }), ")"] : "",
          ": it exempts nothing until another person approves it here, under the bucket's pending exemptions."),
        h("p", {}, "Once approved, the next audit of ", h("code", { text: bucket }), " reports this check EXEMPT. ",
          h("a", { href: `#/new?bucket=${encodeURIComponent(bucket)}`, text: `Start a plan audit of ${bucket}` }))));
      onDone();
      return;
    }
    const message = apiError(result);
    const field = result.body && result.body.field;
    const guess = field && field in fieldIds ? field : /until|day|date/i.test(message) ? "until" : /reason/i.test(message) ? "reason" : null;
    showError(guess, result.status === 403 ? `Not allowed: ${message}` : message);
  });
  return form;
}

/* ---------- page: findings across resources ---------- */

const FINDING_FILTERS = ["status", "severity", "control", "resource", "outcome"];

function findingsHash(params) {
  const q = new URLSearchParams();
  for (const key of FINDING_FILTERS) if (params[key]) q.set(key, params[key]);
  return `#/findings${q.toString() ? `?${q}` : ""}`;
}

function renderFindings(token) {
  const query = new URLSearchParams(location.hash.split("?")[1] || "");
  const params = {};
  for (const key of FINDING_FILTERS) params[key] = query.get(key) || "";
  const status = params.status || "FAIL"; // failing findings unless asked otherwise ("all": every verdict)
  const region = h("div", { id: "findings", "aria-live": "polite", "aria-busy": "true" }, h("p", { text: "Reading the latest report of each audited resource…" }));
  const refresh = h("button", { type: "button", text: "Refresh" });
  refresh.addEventListener("click", () => route());
  setPage("Findings",
    h("div", { class: "page-head" },
      h("h1", { text: "Findings" }),
      h("div", { class: "actions" }, refresh, h("a", { class: "button primary", href: "#/new", text: "Start an audit" }))),
    h("p", { class: "lead", text: "Every audited bucket and security group with the findings of its latest succeeded audit (as Verify left it when that audit applied fixes). Filters are in the address, so a filtered view can be linked." }),
    region);
  focusMain();

  (async () => {
    // One resource asked for: only its audits are read (a linked view opens fast).
    const result = await call("GET", params.resource ? `/ui/findings?resource=${encodeURIComponent(params.resource)}` : "/ui/findings");
    if (token !== pageToken) return;
    region.setAttribute("aria-busy", "false");
    if (result.status !== 200) {
      region.replaceChildren(h("p", { class: "error-text", text: `Could not read the findings: ${apiError(result)}` }));
      return;
    }
    const data = result.body;
    const entries = data.resources || [];
    const rows = entries.flatMap((entry) => (entry.findings || []).map((f) => ({ entry, f, controls: (f.controls || []).map(controlLabel) })));
    const keep = (row, except) =>
      (except === "status" || status === "all" || row.f.status === status) &&
      (except === "severity" || !params.severity || row.f.severity === params.severity) &&
      (except === "control" || !params.control || row.controls.includes(params.control)) &&
      (except === "resource" || !params.resource || (row.entry.resource || {}).id === params.resource) &&
      (except === "outcome" || !params.outcome || row.entry.outcome === params.outcome);
    const shown = rows.filter((r) => keep(r));
    const link = (change, ...children) => h("a", { href: findingsHash({ ...params, ...change }) }, ...children);

    const bySeverity = SEVERITIES.map((sev) => [sev, rows.filter((r) => keep(r, "severity") && r.f.severity === sev).length]);
    const controlCounts = new Map();
    for (const r of rows.filter((row) => keep(row, "control"))) for (const c of r.controls) controlCounts.set(c, (controlCounts.get(c) || 0) + 1);
    const controls = [...controlCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const allControls = [...new Set(rows.flatMap((r) => r.controls))].sort();
    const audited = entries.map((e) => e.resource || {}).filter((r) => r.id).sort((a, b) => a.id.localeCompare(b.id));
    const outcomesSeen = [...new Set(entries.map((e) => e.outcome).filter(Boolean))].sort();

    const select = (id, label, key, options, anyText) => {
      const el = h("select", { id, name: key },
        h("option", { value: "", text: anyText }),
        ...options.map(([value, text]) => h("option", { value, text, selected: value === params[key] })));
      el.addEventListener("change", () => { location.hash = findingsHash({ ...params, [key]: el.value }); });
      return h("div", { class: "field inline" }, h("label", { for: id, text: label }), el);
    };
    const statusSelect = h("select", { id: "filter-verdict", name: "status" },
      ...[["FAIL", "failing"], ["EXEMPT", "exempt"], ["UNKNOWN", "unknown"], ["PASS", "passing"], ["all", "any verdict"]]
        .map(([value, text]) => h("option", { value, text, selected: value === status })));
    statusSelect.addEventListener("change", () => { location.hash = findingsHash({ ...params, status: statusSelect.value === "FAIL" ? "" : statusSelect.value }); });
    const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter findings" },
      h("div", { class: "field inline" }, h("label", { for: "filter-verdict", text: "Verdict" }), statusSelect),
      select("filter-severity", "Severity", "severity", SEVERITIES.map((v) => [v, v.toLowerCase()]), "any severity"),
      select("filter-control", "Control", "control", allControls.map((c) => [c, c]), "any control"),
      select("filter-resource", "Resource", "resource", audited.map((r) => [r.id, `${r.id} (${kindOf(r).label})`]), "any resource"),
      select("filter-outcome", "Audit outcome", "outcome", outcomesSeen.map((o) => [o, o.replace(/_/g, " ").toLowerCase()]), "any outcome"),
      FINDING_FILTERS.some((k) => params[k]) ? h("a", { class: "button", href: "#/findings", text: "Clear filters" }) : null);
    filters.addEventListener("submit", (event) => event.preventDefault());

    const counts = h("section", { class: "card counts", "aria-labelledby": "counts-title" },
      h("h2", { id: "counts-title", text: `${shown.length} ${shown.length === 1 ? "finding" : "findings"} in ${new Set(shown.map((r) => (r.entry.resource || {}).id)).size} of ${entries.length} resources` }),
      h("h3", { text: "By severity" }),
      h("ul", { class: "count-list", "aria-label": "Counts by severity" },
        ...bySeverity.map(([sev, n]) => h("li", { class: params.severity === sev ? "current" : "" },
          link({ severity: params.severity === sev ? "" : sev }, sevBadge(sev), ` ${n}`)))),
      h("h3", { text: "By control" }),
      controls.length
        ? h("ul", { class: "count-list controls-count", "aria-label": "Counts by control" },
          ...controls.map(([c, n]) => h("li", { class: params.control === c ? "current" : "" },
            link({ control: params.control === c ? "" : c }, h("code", { text: c }), ` ${n}`))))
        : h("p", { class: "hint", text: "No finding here maps to a control." }),
      data.truncated ? h("p", { class: "hint", text: `Only the newest ${data.auditsListed} audits were read; resources audited only before them are not shown.` }) : null);

    const groups = entries
      .filter((entry) => shown.some((r) => r.entry === entry))
      .map((entry) => resourceFindings(entry, shown.filter((r) => r.entry === entry).map((r) => r.f), token));
    const empty = entries.length
      ? h("p", { class: "empty" }, "No finding matches these filters. ", h("a", { href: "#/findings", text: "Clear the filters" }), ".")
      : h("p", { class: "empty" }, "No finished audit yet. ", h("a", { href: "#/new", text: "Start one" }), ".");
    region.replaceChildren(filters, counts, ...(groups.length ? groups : [empty]));
  })();
}

function resourceFindings(entry, findings, token) {
  const resource = entry.resource || {};
  const name = resource.id || "";
  const sorted = [...findings].sort((a, b) => severityIndex(a.severity) - severityIndex(b.severity) || a.checkId.localeCompare(b.checkId));
  // Exemptions through the API are a bucket's only.
  const exemptions = kindOf(resource).exemptible ? h("div", { class: "exemptions", "data-bucket": name }) : null;
  const section = h("section", { class: "card resource-findings", "data-resource": name, "aria-label": `Findings of ${name} (${kindOf(resource).label})` },
    h("div", { class: "page-head" },
      h("h2", {}, resourceCell(resource, h("span", { class: "resource-name", text: name }))),
      h("p", { class: "resource-audit" }, entry.outcome ? outcomeBadge(entry.outcome) : null,
        h("span", {}, h("a", { href: `#/audits/${encodeURIComponent(entry.auditId)}`, text: "latest audit" }),
          entry.finishedAt ? [", finished ", timeEl(entry.finishedAt)] : "",
          entry.source === "verification" ? " (after Verify)" : ""))),
    exemptions,
    h("table", { class: "table stack findings all-findings" },
      h("thead", {}, h("tr", {}, ...["Severity", "Check", "Verdict", "Controls"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...sorted.map((f) => h("tr", { "data-check": f.checkId, "data-status": f.status },
        td("Severity", sevBadge(f.severity)),
        td("Check", h("span", { class: "check-title", text: f.title }), h("br"),
          h("a", { href: `#/audits/${encodeURIComponent(entry.auditId)}`, title: "the audit that reported it" }, h("code", { text: f.checkId })),
          f.before && f.before !== f.status ? h("span", { class: "small muted", text: ` (was ${f.before.toLowerCase()} before the fixes)` }) : null,
          f.status === "EXEMPT" ? exemptionNote(f) : null,
          f.evidence && Object.keys(f.evidence).length
            ? h("details", { class: "evidence" }, h("summary", { text: "Evidence" }), h("pre", { class: "evidence-json", tabindex: "0" }, h("code", { text: pretty(f.evidence) })))
            : null,
          f.status === "FAIL" ? exemptAction(resource, f, () => loadExemptions(name, exemptions, token)) : null),
        td("Verdict", verdict(f.status)),
        td("Controls", controlsList(f.controls)))))));
  if (exemptions) loadExemptions(name, exemptions, token);
  return section;
}

/* The bucket's pending and active exemptions (GET /exemptions?bucket=): a pending one is approved
   by another person than its requester (four-eyes, enforced by the API), any is revocable. */
async function loadExemptions(bucket, slot, token) {
  const result = await call("GET", `/api/exemptions?bucket=${encodeURIComponent(bucket)}`);
  if (token !== pageToken) return;
  if (result.status !== 200) {
    slot.replaceChildren(h("p", { class: "hint small", text: `Exemptions could not be listed: ${apiError(result)}` }));
    return;
  }
  const all = (result.body && result.body.exemptions) || [];
  const pending = all.filter((e) => e.status === "PENDING");
  const active = all.filter((e) => e.status === "ACTIVE");
  const action = (ex, verb, label, done) => {
    const button = h("button", { type: "button", class: `small-button${verb === "revoke" ? " danger" : ""}`, text: label });
    const note = h("span", { class: "form-status", role: "status" });
    button.addEventListener("click", async () => {
      button.disabled = true;
      const answer = await call("POST", `/api/exemptions/${encodeURIComponent(ex.exemptionId)}/${verb}`, {});
      if (token !== pageToken) return;
      if (answer.status === 200) {
        note.textContent = done;
        loadExemptions(bucket, slot, token);
      } else {
        button.disabled = false;
        note.textContent = answer.status === 403 ? `Not yours to approve. ${apiError(answer)}` : `Could not ${verb}: ${apiError(answer)}`;
      }
    });
    return [button, " ", note];
  };
  const item = (ex, ...controls) => h("li", { "data-exemption": ex.exemptionId, "data-status": ex.status },
    h("span", {}, ...codeList(ex.checkIds || []), ` until ${ex.until}`, ex.reason ? ` — “${ex.reason}”` : "",
      ` (asked by ${ex.requestedBy}${ex.requestedAt ? `, ${time(ex.requestedAt)}` : ""}`,
      ex.approvedBy ? `; approved by ${ex.approvedBy}` : "", ")"), " ", ...controls);
  const parts = [];
  if (pending.length) {
    parts.push(h("h3", { text: `Pending exemptions (${pending.length})` }),
      h("p", { class: "hint small", text: "They exempt nothing until a person other than the one who asked approves them." }),
      h("ul", { class: "exemption-list" }, ...pending.map((ex) => item(ex,
        ...action(ex, "approve", "Approve", "Approved: the next audit reports these checks EXEMPT."), " ",
        ...action(ex, "revoke", "Withdraw", "Withdrawn.")))));
  }
  if (active.length) {
    parts.push(h("h3", { text: `Active exemptions (${active.length})` }),
      h("ul", { class: "exemption-list" }, ...active.map((ex) => item(ex,
        ...action(ex, "revoke", "Revoke", "Revoked: the next audit reports these checks again.")))));
  }
  slot.replaceChildren(...parts);
}

/* ---------- workflow graph ---------- */

function graphLegend() {
  const items = [
    ["succeeded", "succeeded"], ["running", "running / waiting"], ["retrying", "retrying"],
    ["failed", "failed or caught"], ["idle", "not entered"],
  ];
  return h("ul", { class: "legend", "aria-label": "Graph legend" },
    ...items.map(([k, t]) => h("li", {}, h("span", { class: `swatch node-${k}`, "aria-hidden": "true" }), t)),
    h("li", {}, h("span", { class: "retry-chip", "aria-hidden": "true", text: "↻2" }), "retried (count)"),
    h("li", {}, h("span", { class: "dash-sample", "aria-hidden": "true" }), "on error (Catch)"),
    h("li", {}, h("span", { class: "exit-sample", "aria-hidden": "true", text: "✕" }), "any error → Audit Failed"));
}

/* The graph's node for a state of the ASL (folded states map to the node that shows them). */
function nodeOf(graph, name) {
  const aliases = graph.aliases || {};
  return name in aliases ? aliases[name] : name;
}

let selectedState = null;
let graphAudit = null;
let graphStatuses = {};

async function drawGraph(audit, token) {
  if (!graphCache) {
    const result = await call("GET", "/ui/graph");
    if (result.status !== 200) return;
    graphCache = result.body;
  }
  graphAudit = audit;
  const names = (audit.executions || []).map((e) => e.name).filter(Boolean);
  let history = { available: false, states: {}, transitions: [] };
  const finishedKey = `${audit.status}:${JSON.stringify(audit.executions)}`;
  const slot = document.getElementById("graph");
  if (!slot) return;
  if (slot.dataset.final === finishedKey) return; // a finished audit's graph does not change
  const result = await call("GET", `/ui/audits/${encodeURIComponent(audit.auditId)}/states?executions=${encodeURIComponent(names.join(",") || audit.auditId)}`);
  if (token !== pageToken) return;
  if (result.status === 200) history = result.body;
  const statuses = stateStatuses(graphCache, audit, history);
  graphStatuses = statuses;
  const key = JSON.stringify([statuses, history.transitions]);
  if (slot.dataset.key !== key) {
    slot.dataset.key = key;
    slot.replaceChildren(graphSvg(graphCache, statuses, history.transitions || [], audit));
    fitLabels(slot);
  }
  if (selectedState) showState(selectedState);
  if (FINISHED.has(audit.status) && history.available) slot.dataset.final = finishedKey;
}

function stateStatuses(graph, audit, history) {
  const out = {};
  for (const [name, st] of Object.entries(history.states || {})) {
    out[name] = { ...st };
  }
  for (const step of audit.timeline || []) { // the API's view of the Task steps wins (reused, resumes)
    if (step.status === "pending" || step.status === "skipped") continue;
    if (nodeOf(graph, step.name) !== step.name) continue; // folded: its node shows the history's view
    out[step.name] = { ...(out[step.name] || {}), status: step.status, attempts: step.attempts || 0, error: step.error, reused: step.reused, started: step.started, ended: step.ended };
  }
  const current = audit.currentStep ? nodeOf(graph, audit.currentStep) : null;
  if (current && !FINISHED.has(audit.status) && out[current] && out[current].status !== "retrying") {
    out[current].status = "running";
  }
  return out;
}

function edgePath(points) {
  if (points.length === 2) {
    const [[x1, y1], [x2, y2]] = points;
    const my = (y1 + y2) / 2;
    return `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`;
  }
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let i = 1; i < points.length; i += 1) {
    const [px, py] = points[i - 1];
    const [x, y] = points[i];
    const my = (py + y) / 2;
    d += ` C${px},${my} ${x},${my} ${x},${y}`;
  }
  return d;
}

function graphSvg(graph, statuses, transitions, audit) {
  // [source, target, ...the folded Pass states entered on the way]: of two arrows between the same
  // nodes, the one through the states entered.
  const isTakenEdge = (edge) => transitions.some(([a, b, ...via]) => a === edge.source && b === edge.target
    && (via.length ? via.every((v) => (edge.via || []).includes(v)) : !(edge.via || []).length));
  const svg = s("svg", {
    viewBox: `0 0 ${graph.width} ${graph.height}`, width: graph.width, height: graph.height,
    class: "graph", role: "group", "aria-labelledby": "graph-svg-title graph-svg-desc",
  });
  svg.style.maxWidth = `${graph.width}px`; // scale down to fit, never up (CSSOM: allowed by the CSP)
  const current = audit.currentStep && !FINISHED.has(audit.status) ? nodeOf(graph, audit.currentStep) : null;
  const entered = Object.keys(statuses).length;
  svg.append(
    s("title", { id: "graph-svg-title", text: "Workflow graph of this audit" }),
    s("desc", { id: "graph-svg-desc", text: `${graph.nodes.length} steps; ${entered} entered by this audit${current ? `; now at ${current}` : ""}. The Steps list gives the same information as text; select a step for its input and output.` }),
    s("defs", {},
      s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
        s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-idle" })),
      s("marker", { id: "arrow-taken", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
        s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-taken" }))));
  const edges = s("g", { class: "edges" });
  const labels = s("g", { class: "edge-labels" });
  for (const edge of graph.edges) {
    const isTaken = isTakenEdge(edge);
    const title = `${edge.source} → ${edge.target}${edge.title ? ` (${edge.title})` : ""}${edge.via && edge.via.length ? `, through ${edge.via.join(", ")}` : ""}`;
    if (edge.exit) { // a Catch of any error into the failure: a short dashed exit beside its state
      const [[x1, y1], [x2, y2]] = edge.points;
      edges.append(s("g", { class: `edge-exit${isTaken ? " taken" : ""}`, "data-source": edge.source, "data-target": edge.target, "data-taken": isTaken ? "true" : "false" },
        s("title", { text: `${edge.source}: on any error → ${edge.target}` }),
        s("path", { d: `M${x1},${y1} L${x2 - 5},${y2}`, class: `edge edge-catch${isTaken ? " taken" : ""}` }),
        s("circle", { cx: x2, cy: y2, r: 5, class: "exit-mark" }),
        s("path", { d: `M${x2 - 2.5},${y2 - 2.5} L${x2 + 2.5},${y2 + 2.5} M${x2 + 2.5},${y2 - 2.5} L${x2 - 2.5},${y2 + 2.5}`, class: "exit-x" })));
      continue;
    }
    edges.append(s("path", {
      d: edgePath(edge.points),
      class: `edge edge-${edge.kind}${isTaken ? " taken" : ""}`,
      "data-source": edge.source, "data-target": edge.target, "data-taken": isTaken ? "true" : "false",
      "marker-end": `url(#${isTaken ? "arrow-taken" : "arrow"})`,
    }, s("title", { text: title })));
    if (edge.label_at && edge.label_lines && edge.label_lines.length) {
      const [cx, cy] = edge.label_at;
      const lines = edge.label_lines;
      const top = cy - ((lines.length - 1) * 13) / 2 + 4;
      labels.append(s("text", {
        x: cx, y: top, "text-anchor": "middle",
        class: `edge-label${isTaken ? " taken" : ""}`, "data-source": edge.source, "data-target": edge.target,
      }, s("title", { text: title }), ...lines.map((line, i) => s("tspan", { x: cx, y: top + i * 13, text: line }))));
    }
  }
  const nodes = s("g", { class: "nodes" });
  for (const node of graph.nodes) {
    const st = statuses[node.id];
    const status = st ? st.status : "idle";
    const cls = `node node-${status} node-type-${node.type.toLowerCase()}${node.id === current ? " node-current" : ""}${node.id === selectedState ? " node-selected" : ""}`;
    const attempts = st ? st.attempts || 0 : 0;
    const tip = [`${node.id} (${node.type})`, st ? STATUS_TEXT[status] || status : "not entered"];
    if (attempts) tip.push(`${attempts} ${attempts === 1 ? "attempt" : "attempts"}`);
    if (node.retry) tip.push(`retries up to ${node.max_attempts - 1} times`);
    if (st && st.error && clean(st.error.error)) tip.push(`error ${clean(st.error.error)}`);
    if (st && st.reused) tip.push("reused from a checkpoint");
    if (node.members && node.members.length > 1) tip.push(`includes ${node.members.filter((m) => m !== node.id).join(", ")}`);
    const g = s("g", {
      class: cls, "data-state": node.id, "data-status": status, transform: `translate(${node.x},${node.y})`,
      tabindex: "0", role: "button", "aria-label": `${tip.join(", ")}. Show its input and output.`,
      "aria-pressed": node.id === selectedState ? "true" : "false",
    }, s("title", { text: tip.join(", ") }));
    const w = node.width;
    const hgt = node.height;
    if (node.type === "Choice") {
      const k = 12;
      g.append(s("polygon", { class: "shape", points: `${k},0 ${w - k},0 ${w},${hgt / 2} ${w - k},${hgt} ${k},${hgt} 0,${hgt / 2}` }));
    } else {
      const rx = node.type === "Task" ? 4 : hgt / 2;
      g.append(s("rect", { class: "shape", width: w, height: hgt, rx, ry: rx }));
    }
    const icon = st ? STATUS_ICON[status] || "" : "";
    g.append(s("text", { x: w / 2, y: hgt / 2 + 4.5, "text-anchor": "middle", class: "label", "data-room": w - 16, text: `${icon ? `${icon} ` : ""}${node.id}` }));
    if (attempts > 1) {
      g.append(s("g", { class: "retry-mark", transform: `translate(${w - 14},-8)` },
        s("rect", { x: -12, y: 0, width: 28, height: 16, rx: 8 }),
        s("text", { x: 2, y: 12, "text-anchor": "middle", text: `↻${attempts - 1}` })));
    } else if (node.retry) {
      g.append(s("text", { x: w - 6, y: 11, "text-anchor": "end", class: "retry-policy", text: "↻" }));
    }
    const select = () => showState(node.id);
    g.addEventListener("click", select);
    g.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select();
      }
    });
    nodes.append(g);
  }
  svg.append(edges, labels, nodes);
  return svg;
}

/* A label wider than its box (a font wider than the layout's estimate) is condensed to fit. */
function fitLabels(slot) {
  for (const text of slot.querySelectorAll("text.label")) {
    const room = Number(text.dataset.room);
    if (room && text.getComputedTextLength() > room) {
      text.setAttribute("textLength", room);
      text.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  }
}

/* What the report keeps of each step's result (by the state's ResultPath). */
const OUTPUT_FROM_REPORT = {
  "$.analysis": (r) => ({
    checks: (r.findings || []).length,
    byVerdict: (r.findings || []).reduce((acc, f) => ({ ...acc, [f.status]: (acc[f.status] || 0) + 1 }), {}),
    failing: (r.findings || []).filter((f) => f.status === "FAIL").map((f) => `${f.checkId} (${f.severity})`),
  }),
  "$.remediation": (r) => (r.remediations || []).map((x) => x.plan && {
    remediationId: x.plan.remediationId, title: x.plan.title, checkIds: x.plan.checkIds, reversible: x.plan.reversible,
  }),
  "$.approval": (r) => r.approval,
  "$.planCheck": (r) => r.planCheck,
  "$.applied": (r) => (r.remediations || []).filter((x) => x.applied).map((x) => x.applied),
  "$.verification": (r) => r.verification && {
    outcome: r.verification.outcome, allFixed: r.verification.allFixed,
    stillFailing: r.verification.stillFailing, comparison: r.verification.comparison,
  },
  "$.report": (r) => ({ auditId: r.auditId, outcome: r.outcome, finishedAt: r.finishedAt }),
};

function stateOutput(node, audit) {
  const report = audit && audit.report;
  if (node.type === "Fail") {
    if (!audit || audit.status !== "FAILED") return { text: "Nothing: this audit did not fail." };
    const failure = failureOf(audit);
    return { value: { step: failure.step, message: failure.message, correlationId: failure.correlationId || undefined } };
  }
  // A Succeed state hands on what Write Report returned (its OutputPath is $.report).
  const pick = OUTPUT_FROM_REPORT[node.type === "Succeed" ? "$.report" : node.result_path] || null;
  if (!pick) {
    return { text: node.type === "Choice"
      ? "A decision: it passes its input on along the arrow whose condition holds."
      : "Not available: the report does not keep this step's result, and the console reads the execution history without its data." };
  }
  if (!report) return { text: "Not available yet: the report keeps it once the audit has ended." };
  const value = pick(report);
  if (value === undefined || value === null || (Array.isArray(value) && !value.length)) {
    return { text: "Nothing: this audit did not produce it (the step did not run, or had nothing to do)." };
  }
  return { value };
}

function showState(name) {
  const graph = graphCache;
  const panel = document.getElementById("graph-panel");
  if (!graph || !panel) return;
  const node = graph.nodes.find((n) => n.id === name);
  if (!node) return;
  selectedState = name;
  for (const g of document.querySelectorAll("#graph g.node")) {
    const on = g.dataset.state === name;
    g.classList.toggle("node-selected", on);
    g.setAttribute("aria-pressed", on ? "true" : "false");
  }
  let st = graphStatuses[name];
  if (st && node.type === "Fail" && graphAudit && graphAudit.status === "FAILED") {
    const failure = failureOf(graphAudit); // the audit's own account of it, not the Fail state's echo
    st = { ...st, error: { error: failure.error, message: failure.message } };
  }
  const out = stateOutput(node, graphAudit);
  const folded = (node.members || []).filter((m) => m !== node.id);
  const decisions = graph.edges.filter((e) => e.source === node.id);
  const entered = st
    ? h("dl", { class: "summary" },
      h("dt", { text: "Status" }), h("dd", {}, `${STATUS_TEXT[st.status] || st.status}${st.attempts ? `, ${st.attempts} ${st.attempts === 1 ? "attempt" : "attempts"}` : ""}${st.reused ? ", reused from a checkpoint" : ""}`),
      st.started ? [h("dt", { text: "Started" }), h("dd", {}, timeEl(st.started))] : null,
      st.ended ? [h("dt", { text: "Ended" }), h("dd", {}, timeEl(st.ended), ` (${seconds(st.started, st.ended)})`)] : null,
      st.execution ? [h("dt", { text: "Execution" }), h("dd", {}, h("code", { class: "audit-id", text: st.execution }))] : null,
      errorText(st.error) ? [h("dt", { text: "Error" }), h("dd", { class: "step-error" }, errorText(st.error))] : null)
    : h("p", { class: "hint", text: "Not entered by this audit." });
  const key = JSON.stringify([name, st, out]);
  if (panel.dataset.key === key) return;
  panel.dataset.key = key;
  panel.replaceChildren();
  appendAll(panel, [
    h("h3", { id: "graph-panel-title" }, `${node.id} `, h("span", { class: "muted small", text: `(${node.type})` })),
    node.comment ? h("p", { class: "hint", text: node.comment }) : null,
    folded.length ? h("p", { class: "small" }, "Includes the folded states ", ...codeList(folded), ".") : null,
    entered,
    h("h4", { text: "Input" }),
    node.input
      ? [h("p", { class: "hint small", text: "As the definition builds it from the execution's state (a JSONPath per field)." }),
        h("pre", { class: "state-json", tabindex: "0", "aria-label": `Input of ${node.id}` }, h("code", { text: pretty(node.input) })),
        node.plumbing && node.plumbing.length ? h("p", { class: "hint small" }, "Also: ", ...codeList(node.plumbing.map((p) => p.replace(/\.\$$/, ""))), " (plumbing).") : null]
      : node.type === "Choice"
        ? h("ul", { class: "decisions" }, ...decisions.map((e) => h("li", {}, h("strong", { text: e.title || e.label || "next" }), ` → ${e.target}`)))
        : h("p", { class: "hint", text: "The execution's state as it stands (no parameters of its own)." }),
    h("p", { class: "hint small", text: "The values this execution passed are not shown: the console reads the history without execution data, because Await Approval's input holds the approval's task token." }),
    h("h4", { text: "Output" }),
    out.value !== undefined
      ? [h("p", { class: "hint small", text: node.result_path ? `As the report keeps it (the step writes ${node.result_path}).` : "As the audit reports it." }),
        h("pre", { class: "state-json", tabindex: "0", "aria-label": `Output of ${node.id}` }, h("code", { text: pretty(out.value) }))]
      : h("p", { class: "hint", text: out.text })]);
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", async () => {
  adoptLaunchToken();
  const [known, checks, types] = await Promise.all(
    [call("GET", "/ui/outcomes"), call("GET", "/ui/checks"), call("GET", "/ui/resource-types")]);
  if (known.status === 200) outcomes = known.body;
  if (checks.status === 200) checksMeta = checks.body.checks || {};
  if (types.status === 200) resourceTypes = types.body.resourceTypes || [];
  route();
});
