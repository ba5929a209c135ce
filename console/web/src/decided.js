// KINDS are the decisions on one ticket, in words.
export const KINDS = {
  approve: { verb: "Approve", past: "approved" },
  reject: { verb: "Reject", past: "rejected" },
  terminate: { verb: "Terminate", past: "terminated" },
  done: { verb: "End access", past: "ended" },
  cancel: { verb: "Cancel request", past: "cancelled" },
  review: { verb: "Mark reviewed", past: "reviewed" },
};

export function pastTense(kind) {
  return KINDS[kind].past;
}

// alreadyDecided tells a refusal that lost a race from other errors: when
// the server says 409 and the ticket, read again, is no longer the
// revision and round the page showed, someone else decided it. It
// answers the words to show ("already decided by someone else: now
// approved by carol") or null.
export async function alreadyDecided(client, shown, error) {
  if (!error || error.status !== 409) return null;
  let now;
  try {
    now = await client.ticket(shown.id);
  } catch {
    return null;
  }
  const approvals = (t) => (t.approvals || []).length;
  const changed = now.state !== shown.state || now.revision !== shown.revision || approvals(now) !== approvals(shown) || now.version !== shown.version;
  if (!changed) return null;
  const last = (now.history || []).at(-1) || {};
  const by = (now.closed && now.closed.by) || last.actor || "";
  const who = by ? ` by ${by.split("@")[0]}` : "";
  if (now.revision !== shown.revision) return `Changed meanwhile${who}: now revision ${now.revision}, ${now.state}.`;
  if (now.state === shown.state) return `Already approved${who}: ${(now.approvals || []).length} approval(s) now.`;
  return `Already ${now.state}${who}.`;
}
