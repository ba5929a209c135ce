// Display helpers shared by the tables, the details and the decision modal.

// STATUS maps a ticket state to a StatusIndicator type.
export const STATUS = {
  pending: "pending",
  approved: "info",
  active: "success",
  rejected: "error",
  terminated: "stopped",
  expired: "stopped",
  cancelled: "stopped",
};

const short = { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" };
const dateTimeShort = new Intl.DateTimeFormat(undefined, short);
const dateTimeYear = new Intl.DateTimeFormat(undefined, { ...short, year: "numeric" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

// formatDateTime shows a local date and time; the year only when it is not this one.
export function formatDateTime(value) {
  const d = new Date(value);
  if (isNaN(d)) return "—";
  return (d.getFullYear() === new Date().getFullYear() ? dateTimeShort : dateTimeYear).format(d);
}

export function formatDuration(ms) {
  let m = Math.round(ms / 60000);
  if (!(m > 0)) return "0m";
  const d = Math.floor(m / 1440);
  m -= d * 1440;
  const h = Math.floor(m / 60);
  m -= h * 60;
  return [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean).join(" ");
}

// formatWindow shows start → end in local time plus the duration.
export function formatWindow(start, end) {
  const s = new Date(start);
  const e = new Date(end);
  if (isNaN(s) || isNaN(e)) return "—";
  const sameDay = s.toDateString() === e.toDateString();
  return `${formatDateTime(s)} → ${sameDay ? timeOnly.format(e) : formatDateTime(e)} (${formatDuration(e - s)})`;
}

// pendingExtension returns the ticket's extension if it waits for approval.
export function pendingExtension(t) {
  return t.extension && t.extension.state === "pending" ? t.extension : null;
}

// stageText describes the open approval round: "1 of 2 (0 of 1 approvals)".
export function stageText(t) {
  const ext = pendingExtension(t);
  const round = ext || t;
  const stages = round.stages || [];
  if (stages.length === 0) return "—";
  const i = Math.min(Math.max(round.stage || 0, 0), stages.length - 1);
  const got = (round.approvals || []).filter((a) => a.stage === i).length;
  const text = `${i + 1} of ${stages.length} (${got} of ${stages[i].required} approvals)`;
  return ext ? `Extension: ${text}` : text;
}

export function role(t) {
  return `${t.account_id}/${t.permission_set}`;
}

// decider names who decided: "bob", or "bob for alice" for a delegate's decision.
export function decider(d) {
  return d.for ? `${d.by} for ${d.for}` : d.by;
}

// ---- Words for a busy approver: relative times, approval state, outcome.

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
const withZone = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" });

// zoned shows an absolute local time with its time zone ("Dec 4, 2026, 7:05 PM UTC").
export function zoned(value) {
  const d = new Date(value);
  return isNaN(d) ? "—" : withZone.format(d);
}

// relative says how far value is from now ("4 min ago", "in 42 min").
export function relative(value, now = Date.now()) {
  const d = new Date(value);
  if (isNaN(d)) return "—";
  const s = (d - now) / 1000;
  const abs = Math.abs(s);
  if (abs < 45) return s < 0 ? "just now" : "in a moment";
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

// windowWords says where a ticket's window stands: "starts in 5 min",
// "ends in 42 min", "ended 2 hours ago".
export function windowWords(t, now = Date.now()) {
  if (["rejected", "cancelled", "terminated", "expired"].includes(t.state)) {
    return `closed ${relative((t.closed && t.closed.at) || t.updated_at || t.end, now)}`;
  }
  const s = new Date(t.start);
  const e = new Date(t.end);
  if (now < s) return `starts ${relative(s, now)}`;
  if (now < e) return `ends ${relative(e, now)}`;
  return `ended ${relative(e, now)}`;
}

// person shows an email as its local part ("dave"), "you" for the caller.
export function person(email, me) {
  if (!email) return "";
  if (me && email.toLowerCase() === me.toLowerCase()) return "you";
  if (email.startsWith("group:")) return `group ${email.slice(6)}`;
  return email.split("@")[0];
}

function orList(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

// approvalWords describes the open approval round in words that fit a
// row: "needs 1 more: you or dave; carol approved". "" when nothing waits.
export function approvalWords(t, me) {
  const ext = pendingExtension(t);
  if (t.state !== "pending" && !ext) return "";
  const round = ext || t;
  const stages = round.stages || [];
  if (stages.length === 0) return ext ? "extension waits for approval" : "";
  const i = Math.min(Math.max(round.stage || 0, 0), stages.length - 1);
  const stage = stages[i];
  const approvals = (round.approvals || []).filter((a) => a.stage === i);
  const decidedBy = new Set(approvals.flatMap((a) => [a.by, a.for].filter(Boolean).map((x) => x.toLowerCase())));
  const parties = new Set([t.requester, ...(t.beneficiaries || [])].map((x) => (x || "").toLowerCase()));
  const candidates = (stage.approvers || []).filter((a) => !decidedBy.has(a.toLowerCase()) && !parties.has(a.toLowerCase()));
  // "you" first: it is the name the reader looks for.
  const names = candidates.map((a) => person(a, me)).sort((a, b) => (a === "you" ? -1 : b === "you" ? 1 : 0));
  const need = Math.max((stage.required || 1) - approvals.length, 1);
  let text = `needs ${need} more${names.length ? `: ${orList(names)}` : ""}`;
  if (approvals.length) text += `; ${approvals.map((a) => person(a.by, me)).join(", ")} approved`;
  if (stages.length > 1) text = `stage ${i + 1} of ${stages.length}: ${text}`;
  return ext ? `extension ${text}` : text;
}

// ENDED says how a ticket ended when the server gives no outcome.
const ENDED = { expired: "ran out", rejected: "rejected", cancelled: "cancelled", terminated: "terminated" };

// outcomeWords is how an ended ticket ended, in the server's words
// ("ended by requester", "terminated by bob@example.com").
export function outcomeWords(t) {
  return t.outcome || ENDED[t.state] || "";
}

// environment is an account's environment for a badge: the registry's
// label when it has one, else a guess from its name. prod is red,
// staging blue, everything else grey.
export function environment(account) {
  if (!account) return null;
  const label = account.environment || guessEnvironment(account.name);
  if (!label) return null;
  if (/^prod|production/.test(label)) return { label, color: "red" };
  if (/stag|^pre-?prod|^uat$/.test(label)) return { label, color: "blue" };
  return { label, color: "grey" };
}

function guessEnvironment(name) {
  const n = (name || "").toLowerCase();
  if (/\bprod|production/.test(n)) return "prod";
  if (/stag|\bpre-?prod|\buat\b/.test(n)) return "staging";
  const m = n.match(/\bdev|\btest|sandbox|\bqa\b/);
  return m ? m[0].replace(/^\W/, "") : "";
}

// zoneName is the reader's time zone as the page shows it ("UTC", "CET").
const zoneOnly = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });

export function zoneName(value = Date.now()) {
  const part = zoneOnly.formatToParts(new Date(value)).find((p) => p.type === "timeZoneName");
  return part ? part.value : "";
}

// groupSummary counts a group's members by state, most first, ties in the
// order of a ticket's life: "3 accounts: 2 active, 1 pending".
export function groupSummary(members) {
  const order = Object.keys(STATUS);
  const counts = {};
  for (const m of members) counts[m.state] = (counts[m.state] || 0) + 1;
  const states = Object.keys(counts).sort((a, b) => counts[b] - counts[a] || order.indexOf(a) - order.indexOf(b));
  const n = members.length;
  return `${n} ${n === 1 ? "account" : "accounts"}: ${states.map((s) => `${counts[s]} ${s}`).join(", ")}`;
}

// groupOrder sorts a group's members as the request asked for their accounts.
export function groupOrder(ids, members) {
  const at = (m) => {
    const i = ids.indexOf(m.id);
    return i < 0 ? ids.length : i;
  };
  return [...members].sort((a, b) => at(a) - at(b));
}
