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
