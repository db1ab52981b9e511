/* Security Agent console: vanilla JS, no build step, nothing loaded from elsewhere.
 * Talks only to the local server: /api/... (forwarded to the audit API, signed there) and /ui/...
 * Pages (hash routes): #/new, #/audits, #/audits/{auditId}.
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
  for (const child of children.flat()) {
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
  return body.message || body.Message || `the API answered ${result.status}`;
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
  const typeSelect = h("select", { id: "resource-type", name: "resourceType" },
    h("option", { value: "AWS::S3::Bucket", text: "S3 bucket (AWS::S3::Bucket)" }));
  const idInput = h("input", {
    id: "resource-id", name: "resourceId", type: "text", autocomplete: "off", spellcheck: "false",
    value: params.get("bucket") || "", "aria-required": "true",
  });
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
    fieldRow("resource-id", "Bucket name", idInput, "The S3 bucket to audit, e.g. my-team-logs."),
    modeField,
    fieldRow("approval-timeout", "Approval timeout (seconds)", timeoutInput,
      "How long a remediate audit waits for a person to approve (60 s to 7 days)."),
    h("div", { class: "actions" }, submit),
    h("p", { class: "field-error", id: "form-error", hidden: true }),
    status);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = {
      resource: { type: typeSelect.value, id: idInput.value.trim() },
      mode: form.querySelector("input[name=mode]:checked").value,
    };
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
    // "resource.id: ... is not a valid ..." shown beside the bucket field: the path is redundant there.
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

function showFieldError(form, inputId, message) {
  const errorId = inputId === "mode-plan" ? "mode-error" : inputId ? `${inputId}-error` : "form-error";
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
    h("div", { class: "field inline" }, h("label", { for: "filter-resource", text: "Bucket" }), resourceInput),
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
  if (!audits.length) {
    return h("p", { class: "empty" }, "No audits yet. ", h("a", { href: "#/new", text: "Start one" }), ".");
  }
  const rows = audits.map((a) =>
    h("tr", {},
      td("Bucket",
        h("a", { href: `#/audits/${encodeURIComponent(a.auditId)}`, text: (a.resource && a.resource.id) || a.auditId })),
      td("Status", badge(a.status.replace(/_/g, " ").toLowerCase(), a.status)),
      td("Outcome", a.outcome ? outcomeBadge(a.outcome) : "—"),
      td("Mode", a.mode || ""),
      td("Started", timeEl(a.startedAt)),
      td("Audit id", h("code", { class: "audit-id", text: a.auditId }))));
  return h("div", {},
    h("table", { class: "table stack" },
      h("caption", { class: "visually-hidden", text: "Audits, newest first" }),
      h("thead", {}, h("tr", {}, ...["Bucket", "Status", "Outcome", "Mode", "Started", "Audit id"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...rows)),
    nextToken ? h("p", {}, h("button", { type: "button", onclick: more, text: "More audits" })) : null);
}

/* ---------- page: one audit ---------- */

function renderAudit(token, auditId) {
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
    h("p", { class: "hint", text: "Generated from statemachine/audit.asl.json; each state coloured by what this audit's executions did. Dashed arrows are Catch transitions." }),
    graphLegend(),
    h("div", { class: "graph-scroll", id: "graph", tabindex: "0", role: "region", "aria-label": "Workflow graph (scrollable)" }, h("p", { text: "Drawing the workflow…" })));
  const report = h("div", { id: "report-slot" });
  setPage(`Audit ${auditId}`,
    h("p", { class: "crumbs" }, h("a", { href: "#/audits", text: "← All audits" })),
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
      heading.replaceChildren("Audit of ", h("span", { class: "resource-name", text: resource }));
      document.title = `${resource} (${audit.status}) · Security Agent console`;
      update("summary", summary, audit, () => summaryView(audit));
      updateTimeline(audit);
      update("failure", failure, [audit.status, audit.error, audit.cause], () => failureView(audit, poll));
      update("approval", approval, [audit.status, audit.pendingPlans, audit.planDigest],
        () => approvalView(audit, token, poll, noteDecision));
      update("report", report, [audit.report], () => reportView(audit));
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
    ["Resource", h("span", {}, h("code", { text: resource.id || "" }), ` (${resource.type || "?"})`)],
    ["Mode", audit.mode || ""],
    ["Started", timeEl(audit.startedAt)],
    [FINISHED.has(audit.status) ? "Took" : "Running for", duration(audit.elapsedSeconds)],
    ["Audit id", h("code", { class: "audit-id", text: audit.auditId })],
  ];
  if (audit.executions && audit.executions.length > 1) {
    rows.push(["Executions", audit.executions.map((e) => `${e.name} (${e.status.toLowerCase()})`).join(", ")]);
  }
  return h("dl", { class: "summary" }, ...rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
}

function stepView(step) {
  const status = step.status || "pending";
  const details = [];
  if (step.attempts > 1) details.push(h("span", { class: "retries" }, `${step.attempts} attempts (${step.attempts - 1} ${step.attempts === 2 ? "retry" : "retries"})`));
  const took = seconds(step.started, step.ended);
  if (took) details.push(h("span", { text: took }));
  if (step.reused) details.push(h("span", { class: "reused", text: "reused from a checkpoint" }));
  return h("li", { class: `step step-${status}`, "data-step": step.name, "data-status": status },
    h("span", { class: "step-icon", "aria-hidden": "true", text: STATUS_ICON[status] || "•" }),
    h("div", { class: "step-body" },
      h("span", { class: "step-name", text: step.name }), " ",
      h("span", { class: "step-status", text: STATUS_TEXT[status] || status }),
      details.length ? h("div", { class: "step-details" }, ...details.flatMap((d, i) => (i ? [" · ", d] : [d]))) : null,
      step.error && (step.error.error || step.error.cause)
        ? h("div", { class: "step-error" }, h("strong", { text: step.error.error || "Error" }), step.error.cause ? `: ${step.error.cause}` : "")
        : null));
}

function failureView(audit, poll) {
  if (audit.status !== "FAILED") return [];
  const button = h("button", { type: "button", text: "Resume from the failed step" });
  const note = h("p", { role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    const result = await call("POST", `/api/audits/${encodeURIComponent(audit.auditId)}/resume`, {});
    note.textContent = result.status >= 200 && result.status < 300 ? "Resumed: a new execution starts from the failed step." : `Could not resume: ${apiError(result)}`;
    button.disabled = false;
    clearTimeout(pollTimer);
    poll();
  });
  return h("section", { class: "card failure", "aria-labelledby": "failure-title" },
    h("h2", { id: "failure-title", text: "The audit failed" }),
    h("p", {}, h("strong", { text: audit.error || "Error" }), audit.cause ? `: ${audit.cause}` : ""),
    button, note);
}

function approvalView(audit, token, poll, noteDecision) {
  if (audit.status !== "AWAITING_APPROVAL" || !audit.pendingPlans) return [];
  const plans = [...audit.pendingPlans].sort((a, b) => (a.order || 0) - (b.order || 0));
  const comment = h("textarea", { id: "approval-comment", name: "comment", rows: "2", maxlength: "1000", "aria-describedby": "approval-comment-hint" });
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const approve = h("button", { type: "button", class: "primary", text: "Approve" });
  const reject = h("button", { type: "button", class: "danger", text: "Reject" });
  const checks = [];
  const items = plans.map((plan, index) => {
    const id = `plan-${index}`;
    // A plain approval covers the reversible plans scoped to the bucket; the others need choosing.
    const box = h("input", { type: "checkbox", id: `${id}-include`, checked: plan.approvedByDefault !== false, value: plan.remediationId });
    checks.push(box);
    return h("li", { class: "plan" },
      h("div", { class: "plan-head" },
        box,
        h("label", { for: `${id}-include` }, h("strong", { text: plan.title }))),
      h("p", { class: "plan-checks" }, "Fixes ", ...(plan.checkIds || []).flatMap((c, i) => (i ? [", ", h("code", { text: c })] : [h("code", { text: c })]))),
      h("p", { class: "plan-label", id: `${id}-cmd`, text: "AWS CLI command" }),
      h("pre", { class: "command", tabindex: "0", "aria-labelledby": `${id}-cmd` }, h("code", { text: plan.cliCommand || "" })),
      h("p", { class: "risk" }, h("strong", { text: "Risk: " }), plan.risk || "not stated",
        ` (${plan.reversible ? "reversible" : "not reversible"})`),
      plan.rollbackCliCommand ? h("details", {}, h("summary", { text: "Rollback command" }), h("pre", { class: "command" }, h("code", { text: plan.rollbackCliCommand }))) : null,
      plan.manualInputs && plan.manualInputs.length
        ? h("p", { class: "manual", text: `Needs a person: ${plan.manualInputs.join(", ")} (Apply skips it).` }) : null,
      plan.namedOnlyReason
        ? h("p", { class: "manual", text: `Not included unless you tick it: ${plan.namedOnlyReason.replace(/; approve it by naming its id$/, "")}.` }) : null);
  });

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
      const defaults = audit.defaultRemediationIds || [];
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
    } else {
      status.textContent = `Could not record the decision: ${apiError(result)}`;
      approve.disabled = reject.disabled = false;
    }
  }
  approve.addEventListener("click", () => decide("approve"));
  reject.addEventListener("click", () => decide("reject"));

  return h("section", { class: "card approval", "aria-labelledby": "approval-title" },
    h("h2", { id: "approval-title", text: `Waiting for approval: ${plans.length} ${plans.length === 1 ? "fix" : "fixes"} proposed` }),
    audit.approvalExpiresAt ? h("p", {}, "Decide before ", timeEl(audit.approvalExpiresAt), "; after that the audit ends as APPROVAL_EXPIRED and changes nothing.") : null,
    h("ol", { class: "plans" }, ...items),
    h("div", { class: "field" },
      h("label", { for: "approval-comment", text: "Comment (optional)" }),
      h("p", { class: "hint", id: "approval-comment-hint", text: "Recorded in the report with your decision." }),
      comment),
    h("div", { class: "actions" }, approve, reject),
    status);
}

/* ---------- report ---------- */

function reportView(audit) {
  const report = audit.report;
  if (!report) return [];
  const after = {};
  const comparison = (report.verification && report.verification.comparison) || [];
  for (const c of comparison) after[c.checkId] = c.after;
  const findings = report.findings || [];
  const groups = SEVERITIES.map((sev) => [sev, findings.filter((f) => f.severity === sev)]).filter(([, list]) => list.length);
  const failing = findings.filter((f) => f.status === "FAIL").length;

  const findingTable = (rows) => h("table", { class: `table stack findings${comparison.length ? " with-after" : ""}` },
    h("thead", {}, h("tr", {}, ...["Check", "Before", comparison.length ? "After Verify" : null, "Controls"].filter(Boolean).map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, ...rows.map((f) => h("tr", {},
      td("Check", h("span", { class: "check-title", text: f.title }), h("br"), h("code", { text: f.checkId })),
      td("Before", verdict(f.status)),
      comparison.length ? td("After Verify", after[f.checkId] ? verdict(after[f.checkId]) : "—") : null,
      td("Controls", h("ul", { class: "controls" }, ...(f.controls || []).map((c) => h("li", { text: c }))))))));
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
      r.applied && r.applied.error ? h("div", { class: "small", text: r.applied.error }) : null)));

  const verification = report.verification
    ? h("section", { "aria-labelledby": "verify-title" },
      h("h3", { id: "verify-title", text: "Before and after (Verify)" }),
      h("p", {}, report.verification.allFixed ? "Every check an applied fix targeted now passes. " : "Some fixes did not take. ",
        (report.verification.stillFailing || []).length
          ? ["Still failing: ", ...report.verification.stillFailing.flatMap((c, i) => (i ? [", ", h("code", { text: c })] : [h("code", { text: c })])), "."]
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

  return h("section", { class: "card report", "aria-labelledby": "report-title" },
    h("div", { class: "page-head" },
      h("h2", { id: "report-title", text: "Report" }),
      h("a", { class: "button", href: `/ui/audits/${encodeURIComponent(audit.auditId)}/report.json`, download: `audit-${audit.auditId}.json`, text: "Download JSON" })),
    h("p", { class: `outcome outcome-${(outcomes[report.outcome] || { style: "warn" }).style}` }, h("span", { text: "Outcome: " }), h("strong", { text: report.outcome.replace(/_/g, " ") }),
      ` — ${(outcomes[report.outcome] || {}).wording || ""}; ${findings.length} checks, ${failing} failing before any fix.`),
    approval,
    report.failure ? h("p", { class: "error-text" }, `Failed at ${report.failure.step}: ${report.failure.error || ""} ${report.failure.cause || ""}`) : null,
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

function verdict(value) {
  if (!value) return "—";
  const label = { PASS: "pass", FAIL: "fail", UNKNOWN: "unknown", EXEMPT: "exempt" }[value] || value.toLowerCase();
  return badge(label, `verdict-${value}`);
}

/* ---------- workflow graph ---------- */

function graphLegend() {
  const items = [
    ["succeeded", "succeeded"], ["running", "running / waiting"], ["retrying", "retrying"],
    ["failed", "failed or caught"], ["idle", "not entered"],
  ];
  return h("ul", { class: "legend", "aria-label": "Graph legend" },
    ...items.map(([k, t]) => h("li", {}, h("span", { class: `swatch node-${k}`, "aria-hidden": "true" }), t)),
    h("li", {}, h("span", { class: "retry-chip", "aria-hidden": "true", text: "↻2" }), "retried (count)"));
}

async function drawGraph(audit, token) {
  if (!graphCache) {
    const result = await call("GET", "/ui/graph");
    if (result.status !== 200) return;
    graphCache = result.body;
  }
  const names = (audit.executions || []).map((e) => e.name).filter(Boolean);
  let history = { available: false, states: {}, transitions: [] };
  const finishedKey = `${audit.status}:${JSON.stringify(audit.executions)}`;
  const slot = document.getElementById("graph");
  if (!slot) return;
  if (slot.dataset.final === finishedKey) return; // a finished audit's graph does not change
  const result = await call("GET", `/ui/audits/${encodeURIComponent(audit.auditId)}/states?executions=${encodeURIComponent(names.join(",") || audit.auditId)}`);
  if (token !== pageToken) return;
  if (result.status === 200) history = result.body;
  const statuses = stateStatuses(audit, history);
  const key = JSON.stringify([statuses, history.transitions]);
  if (slot.dataset.key !== key) {
    slot.dataset.key = key;
    slot.replaceChildren(graphSvg(graphCache, statuses, history.transitions || [], audit));
  }
  if (FINISHED.has(audit.status) && history.available) slot.dataset.final = finishedKey;
}

function stateStatuses(audit, history) {
  const out = {};
  for (const [name, st] of Object.entries(history.states || {})) {
    out[name] = { status: st.status, attempts: st.attempts || 0, error: st.error };
  }
  for (const step of audit.timeline || []) { // the API's view of the Task steps wins (reused, resumes)
    if (step.status === "pending" || step.status === "skipped") continue;
    out[step.name] = { status: step.status, attempts: step.attempts || 0, error: step.error, reused: step.reused };
  }
  if (audit.currentStep && !FINISHED.has(audit.status) && out[audit.currentStep] && out[audit.currentStep].status !== "retrying") {
    out[audit.currentStep].status = "running";
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
  const taken = new Set(transitions.map(([a, b]) => `${a}\u0000${b}`));
  const svg = s("svg", {
    viewBox: `0 0 ${graph.width} ${graph.height}`, width: graph.width, height: graph.height,
    class: "graph", role: "img", "aria-labelledby": "graph-svg-title graph-svg-desc",
  });
  svg.style.maxWidth = `${graph.width}px`; // scale down to fit, never up (CSSOM: allowed by the CSP)
  const current = audit.currentStep && !FINISHED.has(audit.status) ? audit.currentStep : null;
  const entered = Object.keys(statuses).length;
  svg.append(
    s("title", { id: "graph-svg-title", text: "Workflow graph of this audit" }),
    s("desc", { id: "graph-svg-desc", text: `${graph.nodes.length} states; ${entered} entered by this audit${current ? `; now at ${current}` : ""}. The Steps list gives the same information as text.` }),
    s("defs", {},
      s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
        s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-idle" })),
      s("marker", { id: "arrow-taken", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "8", markerHeight: "8", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
        s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-taken" }))));
  const edges = s("g", { class: "edges" });
  const labels = s("g", { class: "edge-labels" });
  for (const edge of graph.edges) {
    const isTaken = taken.has(`${edge.source}\u0000${edge.target}`);
    const path = s("path", {
      d: edgePath(edge.points),
      class: `edge edge-${edge.kind}${isTaken ? " taken" : ""}`,
      "marker-end": `url(#${isTaken ? "arrow-taken" : "arrow"})`,
    }, s("title", { text: `${edge.source} → ${edge.target}${edge.label ? ` (${edge.label})` : ""}` }));
    edges.append(path);
    if (edge.label && edge.kind === "choice" && edge.points.length >= 2) {
      const [x1, y1] = edge.points[0];
      const [x2, y2] = edge.points[1];
      const lx = x1 + (x2 - x1) * 0.5;
      const ly = y1 + (y2 - y1) * 0.5;
      labels.append(s("text", { x: lx + 4, y: ly + 3, class: `edge-label${isTaken ? " taken" : ""}`, text: shortLabel(edge.label) }));
    }
  }
  const nodes = s("g", { class: "nodes" });
  for (const node of graph.nodes) {
    const st = statuses[node.id];
    const status = st ? st.status : "idle";
    const cls = `node node-${status} node-type-${node.type.toLowerCase()}${node.id === current ? " node-current" : ""}`;
    const attempts = st ? st.attempts || 0 : 0;
    const tip = [`${node.id} (${node.type})`, st ? STATUS_TEXT[status] || status : "not entered"];
    if (attempts) tip.push(`${attempts} ${attempts === 1 ? "attempt" : "attempts"}`);
    if (node.retry) tip.push(`retries up to ${node.max_attempts - 1} times`);
    if (st && st.error && st.error.error) tip.push(`error ${st.error.error}`);
    if (st && st.reused) tip.push("reused from a checkpoint");
    const g = s("g", { class: cls, "data-state": node.id, "data-status": status, transform: `translate(${node.x},${node.y})` },
      s("title", { text: tip.join(", ") }));
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
    g.append(s("text", { x: w / 2, y: hgt / 2 + 4.5, "text-anchor": "middle", class: "label", text: `${icon ? `${icon} ` : ""}${node.id}` }));
    if (attempts > 1) {
      g.append(s("g", { class: "retry-mark", transform: `translate(${w - 14},-8)` },
        s("rect", { x: -12, y: 0, width: 28, height: 16, rx: 8 }),
        s("text", { x: 2, y: 12, "text-anchor": "middle", text: `↻${attempts - 1}` })));
    } else if (node.retry) {
      g.append(s("text", { x: w - 6, y: 11, "text-anchor": "end", class: "retry-policy", text: "↻" }));
    }
    nodes.append(g);
  }
  svg.append(edges, labels, nodes);
  return svg;
}

function shortLabel(text) {
  return text.length > 28 ? `${text.slice(0, 27)}…` : text;
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", async () => {
  adoptLaunchToken();
  const known = await call("GET", "/ui/outcomes");
  if (known.status === 200) outcomes = known.body;
  route();
});
