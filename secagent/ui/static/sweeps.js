/* Security Agent console: the sweep pages (loaded after app.js, whose helpers they use).
 * Pages (hash routes): #/sweeps (start a sweep, the list), #/sweeps/{sweepId} (its progress, each
 * account's listing, then its posture per control and per account and the failing resources,
 * worst first, each of the deployment's own account with "Audit and fix").
 * A sweep changes nothing: "Audit and fix" starts an audit (POST /sweeps/{id}/audits) that waits
 * for a person's approval on its own page, like any audit.
 */
"use strict";

const SWEEP_RUNNING = "RUNNING";
const SWEEP_FAILING_SHOWN = 50; // rows of failing resources before "Show all"

function sweepStatusBadge(status) {
  return badge(String(status || "unknown").replace(/_/g, " ").toLowerCase(), status || "unknown");
}

function errorLine(error) {
  if (!error || typeof error !== "object") return "";
  const message = clean(error.message);
  const name = clean(error.error);
  return name && message ? `${name}: ${message}` : message || name || "";
}

function typeLabel(type) {
  return kindOf({ type }).label;
}

/* ---------- page: sweeps (start one, the list) ---------- */

function renderSweeps(token) {
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
  const accounts = h("textarea", {
    id: "sweep-accounts", name: "accounts", rows: "3", spellcheck: "false", autocomplete: "off",
  });
  const typeBoxes = resourceTypes.map((k, i) => h("div", { class: "radio" },
    h("input", { type: "checkbox", id: `sweep-type-${i}`, name: "resourceTypes", value: k.type, checked: true }),
    h("label", { for: `sweep-type-${i}`, text: `${k.label} (${k.type})` })));
  const types = h("fieldset", { class: "field", "aria-describedby": "sweep-types-error" },
    h("legend", { text: "Resource types" }), ...typeBoxes,
    h("p", { class: "field-error", id: "sweep-types-error", hidden: true }));
  const submit = h("button", { type: "submit", class: "primary", text: "Start sweep" });
  const form = h("form", { class: "card form", novalidate: true, "aria-labelledby": "sweep-new-title" },
    h("h2", { id: "sweep-new-title", text: "Start a sweep" }),
    fieldRow("sweep-accounts", "Accounts", accounts,
      "12-digit AWS account ids, separated by commas, spaces or lines. Empty: this deployment's account and every member account it is configured with."),
    types,
    h("div", { class: "actions" }, submit),
    h("p", { class: "field-error", id: "sweep-form-error", hidden: true }),
    status);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const ids = accounts.value.split(/[\s,]+/).filter(Boolean);
    const bad = ids.find((a) => !/^\d{12}$/.test(a));
    if (bad) return showFieldError(form, "sweep-accounts", `"${bad}" is not an AWS account id (12 digits).`, "sweep-form-error");
    const chosen = typeBoxes.map((box) => box.querySelector("input")).filter((box) => box.checked).map((box) => box.value);
    if (!chosen.length) {
      const errorEl = form.querySelector("#sweep-types-error");
      errorEl.textContent = "Choose at least one resource type.";
      errorEl.hidden = false;
      form.querySelector("#sweep-type-0").focus();
      return;
    }
    const body = { mode: "plan", resourceTypes: chosen };
    if (ids.length) body.accounts = ids;
    submit.disabled = true;
    status.textContent = "Starting the sweep…";
    const result = await call("POST", "/api/sweeps", body);
    submit.disabled = false;
    if (token !== pageToken) return;
    if (result.status === 202 && result.body && result.body.sweepId) {
      status.textContent = "Sweep started.";
      location.hash = `#/sweeps/${encodeURIComponent(result.body.sweepId)}`;
      return;
    }
    status.textContent = "";
    const field = result.body && result.body.field;
    showFieldError(form, field === "accounts" ? "sweep-accounts" : null, apiError(result), "sweep-form-error");
  });

  const region = h("div", { id: "sweep-list", "aria-live": "polite", "aria-busy": "true" }, h("p", { text: "Loading sweeps…" }));
  setPage("Sweeps",
    h("h1", { text: "Sweeps" }),
    h("p", { class: "lead", text: "A sweep discovers and judges every S3 bucket and EC2 security group of several accounts. It changes nothing: to fix a resource it found, start an audit of it, which waits for a person's approval." }),
    form,
    h("section", { "aria-labelledby": "sweeps-title" }, h("h2", { id: "sweeps-title", text: "Recent sweeps" }), region));
  focusMain();

  let sweeps = [];
  let nextToken = null;
  let shown = "";

  async function load(append) {
    const q = new URLSearchParams({ limit: "20" });
    if (append && nextToken) q.set("nextToken", nextToken);
    const result = await call("GET", `/api/sweeps?${q}`);
    if (token !== pageToken) return;
    region.setAttribute("aria-busy", "false");
    if (result.status !== 200) {
      if (!sweeps.length) region.replaceChildren(h("p", { class: "error-text", text: `Could not list sweeps: ${apiError(result)}` }));
    } else {
      const page = result.body.sweeps || [];
      const seen = new Set(page.map((s) => s.sweepId));
      sweeps = append ? sweeps.concat(page) : page.concat(sweeps.slice(page.length).filter((s) => !seen.has(s.sweepId)));
      if (append || nextToken === null) nextToken = result.body.nextToken || null;
      const key = JSON.stringify([sweeps, nextToken]);
      if (key !== shown) {
        shown = key;
        region.replaceChildren(sweepTable(sweeps, nextToken, () => load(true)));
      }
    }
    pollTimer = setTimeout(() => load(false), LIST_POLL_MS);
  }
  load(false);
}

function sweepTable(sweeps, nextToken, more) {
  const moreButton = nextToken ? h("p", {}, h("button", { type: "button", onclick: more, text: "More sweeps" })) : null;
  if (!sweeps.length) return h("div", {}, h("p", { class: "empty", text: "No sweeps yet." }), moreButton);
  const rows = sweeps.map((s) => h("tr", {},
    td("Sweep", h("a", { href: `#/sweeps/${encodeURIComponent(s.sweepId)}` }, h("code", { text: s.sweepId }))),
    td("Status", sweepStatusBadge(s.status)),
    td("Requested", timeEl(s.requestedAt)),
    td("By", s.requestedBy || ""),
    td("Accounts", (s.accounts || []).join(", "))));
  return h("div", {},
    h("table", { class: "table stack" },
      h("caption", { class: "visually-hidden", text: "Sweeps, newest first" }),
      h("thead", {}, h("tr", {}, ...["Sweep", "Status", "Requested", "By", "Accounts"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...rows)),
    moreButton);
}

/* ---------- page: one sweep ---------- */

function renderSweep(token, sweepId) {
  const heading = h("h1", {}, "Sweep ", h("code", { text: sweepId }));
  const summary = h("section", { class: "card", "aria-labelledby": "sweep-summary-title" },
    h("h2", { id: "sweep-summary-title", class: "visually-hidden", text: "Summary" }), h("p", { text: "Loading…" }));
  const progress = h("section", { class: "card", "aria-labelledby": "sweep-progress-title", "aria-live": "polite" });
  const accounts = h("section", { "aria-labelledby": "sweep-accounts-title" });
  const posture = h("div", { id: "sweep-posture" });
  setPage(`Sweep ${sweepId}`, heading, summary, progress, accounts, posture);
  focusMain();

  let shown = "";
  let postureLoaded = false;

  async function poll() {
    const result = await call("GET", `/api/sweeps/${encodeURIComponent(sweepId)}`);
    if (token !== pageToken) return;
    if (result.status === 404) {
      summary.replaceChildren(h("p", { class: "error-text", text: `There is no sweep ${sweepId}.` }));
      return;
    }
    if (result.status !== 200) {
      if (!shown) summary.replaceChildren(h("p", { class: "error-text", text: `Could not read the sweep: ${apiError(result)}` }));
      pollTimer = setTimeout(poll, POLL_MS);
      return;
    }
    const sweep = result.body;
    const key = JSON.stringify(sweep);
    if (key !== shown) {
      shown = key;
      summary.replaceChildren(...sweepSummary(sweep));
      progress.replaceChildren(...sweepProgress(sweep));
      accounts.replaceChildren(...accountListing(sweep));
    }
    if (sweep.status === SWEEP_RUNNING) {
      pollTimer = setTimeout(poll, POLL_MS);
    } else if (!postureLoaded) {
      postureLoaded = true;
      loadPosture(token, sweep, posture);
    }
  }
  poll();
}

function sweepSummary(sweep) {
  const types = (sweep.resourceTypes || []).map(typeLabel).join(", ");
  return [
    h("h2", { id: "sweep-summary-title", class: "visually-hidden", text: "Summary" }),
    h("p", {}, sweepStatusBadge(sweep.status), " requested by ", h("strong", { text: sweep.requestedBy || "?" }), " ",
      timeEl(sweep.requestedAt), sweep.finishedAt ? [", ended ", timeEl(sweep.finishedAt)] : ""),
    h("p", {}, "Accounts: ", ...codeList(sweep.accounts || []), types ? `. Types: ${types}.` : ""),
    h("p", { class: "hint", text: "Read-only: a sweep changes nothing." }),
  ];
}

function sweepProgress(sweep) {
  const p = sweep.progress || {};
  const title = h("h2", { id: "sweep-progress-title", text: "Progress" });
  if (p.total === null || p.total === undefined) {
    return [title, h("p", { text: sweep.status === SWEEP_RUNNING ? "Listing the accounts' resources…" : "No resource was listed." })];
  }
  const judged = (p.done || 0) + (p.failed || 0);
  const text = `${p.done || 0} of ${p.total} resources judged, ${p.failed || 0} failed` +
    (p.remaining === null || p.remaining === undefined ? "" : `, ${p.remaining} remaining`);
  const s = sweep.summary;
  const counts = s ? h("p", {},
    `${s.resources} resources: ${s.compliant} compliant, ${s.nonCompliant} non-compliant, ${s.unjudged} not judged. Failing checks: `,
    ...["critical", "high", "medium", "low", "info"].flatMap((sev) => [badge(`${sev} ${(s.failingBySeverity || {})[sev] || 0}`, `sev-${sev}`), " "])) : null;
  return [
    title,
    h("progress", { id: "sweep-progress", max: String(p.total || 1), value: String(Math.min(judged, p.total || 0)), "aria-label": text }),
    h("p", { text }),
    counts,
  ];
}

function accountListing(sweep) {
  const listing = sweep.listing || [];
  const broken = listing.filter((a) => a.status === "FAILED");
  const title = h("h2", { id: "sweep-accounts-title", text: "Accounts" });
  if (!listing.length) return [title, h("p", { class: "hint", text: "No account has been listed yet." })];
  const warnings = broken.map((a) => h("p", { class: "notice notice-bad broken-account" },
    h("strong", { text: `Account ${a.accountId} could not be listed` }),
    errorLine(a.error) ? `: ${errorLine(a.error)}` : "", ". Nothing is known of its resources."));
  const rows = listing.map((a) => h("tr", { class: a.status === "FAILED" ? "row-broken" : null },
    td("Account", h("code", { text: a.accountId })),
    td("Listing", a.status === "FAILED" ? badge("could not be listed", "failed") : badge("listed", "listed")),
    td("Resources", a.status === "FAILED" ? "—" : String(a.resources || 0)),
    td("Error", errorLine(a.error))));
  return [title, ...warnings,
    h("table", { class: "table stack" },
      h("thead", {}, h("tr", {}, ...["Account", "Listing", "Resources", "Error"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...rows))];
}

async function loadPosture(token, sweep, slot) {
  slot.replaceChildren(h("p", { text: "Loading the posture report…" }));
  const result = await call("GET", `/api/sweeps/${encodeURIComponent(sweep.sweepId)}/report`);
  if (token !== pageToken) return;
  if (result.status !== 200 || !result.body) {
    slot.replaceChildren(h("p", { class: "error-text", text: `No posture report: ${apiError(result)}` }));
    return;
  }
  slot.replaceChildren(...postureView(token, sweep, result.body));
}

/* Which account "Audit and fix" may act in: the deployment's own, when the API says which (a
   member account is swept read-only). Unknown: the button is offered and the API's refusal shown. */
function ownAccountOf(sweep, posture) {
  return sweep.deploymentAccountId || posture.deploymentAccountId || null;
}

function postureView(token, sweep, posture) {
  const own = ownAccountOf(sweep, posture);
  const parts = [];
  if (posture.complete === false) {
    parts.push(h("section", { class: "card notice notice-bad", "aria-labelledby": "incomplete-title" },
      h("h2", { id: "incomplete-title", text: "Incomplete: not every resource was judged" }),
      h("ul", {}, ...(posture.incompleteReasons || []).map((r) => h("li", { text: clean(r.message) || r.reason })))));
  }
  parts.push(controlsSection(posture.byControl || []));
  parts.push(accountsSection(posture.byAccount || []));
  parts.push(failingSection(token, sweep, posture.failingResources || [], own));
  const unjudged = posture.unjudgedResources || [];
  if (unjudged.length) {
    parts.push(h("details", { class: "card" },
      h("summary", { text: `${unjudged.length} ${unjudged.length === 1 ? "resource" : "resources"} could not be judged` }),
      h("ul", {}, ...unjudged.map((r) => h("li", {}, resourceCell(r.resource, h("code", { text: (r.resource || {}).id })),
        ` in ${r.accountId}: ${String(r.outcome || "").replace(/_/g, " ").toLowerCase()}`, errorLine(r.error) ? ` (${errorLine(r.error)})` : "")))));
  }
  return parts;
}

function controlsSection(controls) {
  const rows = controls.map((c) => {
    const r = c.resources || {};
    return h("tr", {},
      td("Control", h("code", { text: c.id })),
      td("Worst failing", c.worstFailing ? sevBadge(c.worstFailing) : badge("none", "verdict-pass")),
      td("Failing", String(r.fail || 0)),
      td("Unknown", String(r.unknown || 0)),
      td("Exempt", String(r.exempt || 0)),
      td("Passing", String(r.pass || 0)),
      td("Checks", ...codeList(c.checkIds || [])));
  });
  return h("section", { class: "card", "aria-labelledby": "by-control-title" },
    h("h2", { id: "by-control-title", text: "Posture per control" }),
    h("p", { class: "hint", text: "Each resource counted once per control, with its worst verdict; worst first." }),
    rows.length ? h("table", { class: "table stack" },
      h("thead", {}, h("tr", {}, ...["Control", "Worst failing", "Failing", "Unknown", "Exempt", "Passing", "Checks"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...rows)) : h("p", { class: "empty", text: "No control was judged." }));
}

function accountsSection(accounts) {
  const rows = accounts.map((a) => {
    const failing = a.failingBySeverity || {};
    return h("tr", { class: a.status !== "LISTED" ? "row-broken" : null },
      td("Account", h("code", { text: a.accountId })),
      td("Listing", a.status === "LISTED" ? badge("listed", "listed") : badge(a.status === "FAILED" ? "could not be listed" : "no listing", "failed"),
        errorLine(a.error) ? h("div", { class: "small", text: errorLine(a.error) }) : null),
      td("Resources", String(a.resources || 0)),
      td("Compliant", String(a.compliant || 0)),
      td("Non-compliant", String(a.nonCompliant || 0)),
      td("Not judged", String((a.unjudged || 0) + (a.unseen || 0))),
      td("Failing checks", ...["critical", "high", "medium", "low"].filter((sev) => failing[sev]).flatMap((sev) => [badge(`${sev} ${failing[sev]}`, `sev-${sev}`), " "])));
  });
  return h("section", { class: "card", "aria-labelledby": "by-account-title" },
    h("h2", { id: "by-account-title", text: "Posture per account" }),
    rows.length ? h("table", { class: "table stack" },
      h("thead", {}, h("tr", {}, ...["Account", "Listing", "Resources", "Compliant", "Non-compliant", "Not judged", "Failing checks"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...rows)) : h("p", { class: "empty", text: "No account." }));
}

function failingSection(token, sweep, failing, own) {
  const tbody = h("tbody", {});
  const section = h("section", { class: "card", "aria-labelledby": "failing-title" },
    h("h2", { id: "failing-title", text: `Failing resources, worst first (${failing.length})` }),
    h("p", { class: "hint", text: "“Audit and fix” starts an audit of the resource in remediate mode: it proposes fixes and waits for a person's approval on its page before changing anything. A member account is swept read-only: deploy the agent there to fix its resources." }));
  if (!failing.length) {
    section.append(h("p", { class: "empty", text: "No resource fails a check." }));
    return section;
  }
  const fill = (rows) => tbody.replaceChildren(...rows.map((r) => failingRow(token, sweep, r, own)));
  fill(failing.slice(0, SWEEP_FAILING_SHOWN));
  section.append(h("table", { class: "table stack" },
    h("thead", {}, h("tr", {}, ...["Resource", "Account", "Worst", "Failing checks", "Fix"].map((t) => h("th", { scope: "col", text: t })))),
    tbody));
  if (failing.length > SWEEP_FAILING_SHOWN) {
    const all = h("button", { type: "button", text: `Show all ${failing.length}` });
    all.addEventListener("click", () => { fill(failing); all.remove(); });
    section.append(h("p", {}, all));
  }
  return section;
}

function failingRow(token, sweep, entry, own) {
  const resource = entry.resource || {};
  const member = own !== null && entry.accountId !== own;
  return h("tr", {},
    td("Resource", resourceCell(resource, h("code", { text: resource.id || "?" }))),
    td("Account", h("code", { text: entry.accountId }), entry.region ? h("div", { class: "small muted", text: entry.region }) : null),
    td("Worst", sevBadge(entry.worst)),
    td("Failing checks", ...codeList((entry.checks || []).map((c) => c.checkId))),
    td("Fix", member
      ? h("span", { class: "small muted", text: "member account: read-only" })
      : auditAndFix(token, sweep, entry)));
}

/* POST /sweeps/{id}/audits: an audit of this resource in remediate mode; it waits for a person's
   approval on the audit's page (linked once started). */
function auditAndFix(token, sweep, entry) {
  const resource = entry.resource || {};
  const button = h("button", { type: "button", class: "small-button audit-and-fix", text: "Audit and fix",
    "aria-label": `Audit and fix ${resource.id}` });
  const status = h("div", { class: "small form-status", role: "status", "aria-live": "polite" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Starting the audit…";
    const body = { resource: { type: resource.type, id: resource.id }, accountId: entry.accountId, mode: "remediate" };
    const result = await call("POST", `/api/sweeps/${encodeURIComponent(sweep.sweepId)}/audits`, body);
    if (token !== pageToken) return;
    if (result.status === 202 && result.body && result.body.auditId) {
      button.remove();
      status.replaceChildren("Audit started: it waits for a person's approval. ",
        h("a", { href: `#/audits/${encodeURIComponent(result.body.auditId)}`, text: "Open the audit" }));
      return;
    }
    button.disabled = result.status === 400 || result.status === 404; // refused for good
    status.replaceChildren(h("span", { class: "error-text", text: apiError(result) }));
  });
  return h("div", {}, button, status);
}
