// Client for the JIT JSON API under /api/v1. Every call sends the ID token
// as a bearer token; failures throw ApiError with the server's message.

import { startStepUp } from "./auth.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// firstList is boot.js's early request when it is this GET with this
// token, else null.
function firstList(token, method, path) {
  const first = window.__jitFirstList;
  return first && method === "GET" && first.url === `/api/v1${path}` && first.token === token ? first : null;
}

// prefetched takes boot.js's answer for this GET, once: a promise of the
// reply read whole, or null.
function prefetched(token, method, path) {
  const first = firstList(token, method, path);
  if (!first) return null;
  window.__jitFirstList = null;
  return first.answer;
}

// send makes the call and reads the reply whole: {ok, status, statusText, text}.
async function send(token, method, path, body) {
  const early = prefetched(token, method, path);
  if (early) return early;
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/api/v1${path}`, init);
  return { ok: res.ok, status: res.status, statusText: res.statusText, text: await res.text() };
}

async function request(token, method, path, body) {
  let reply;
  try {
    reply = await send(token, method, path, body);
  } catch (e) {
    throw new ApiError(0, "network", `Network error: ${e.message}`);
  }
  return decode(reply);
}

// decode answers a reply's JSON, or throws its error as an ApiError.
function decode(res) {
  let data = null;
  if (res.text) {
    try {
      data = JSON.parse(res.text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    let message = (data && data.message) || `${res.status} ${res.statusText}`.trim();
    const code = (data && data.code) || "";
    if (code === "step_up_required") {
      // The decision needs a recent sign-in: go through the identity
      // provider again (max_age, prompt=login) and come back here to retry.
      message = startStepUp(data.max_age || 0)
        ? "This needs a recent sign-in: taking you to your identity provider to sign in again…"
        : `${message} Your identity provider did not sign you in afresh; sign out and in again.`;
    }
    throw new ApiError(res.status, code, message);
  }
  if (data === null && res.status === 204) return {};
  if (data === null) throw new ApiError(res.status, "bad_response", "The server's answer is not JSON.");
  return data;
}

// peek answers boot.js's answer for this GET at once, if it has come and
// is a success (taking it), else null: the caller then asks as usual.
function peek(token, path) {
  const first = firstList(token, "GET", path);
  if (!first || !first.read || !first.read.ok) return null;
  try {
    const data = decode(first.read);
    window.__jitFirstList = null;
    return data;
  } catch {
    return null;
  }
}

const enc = encodeURIComponent;

// query encodes the set parameters of params (not undefined, "" or false).
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== "" && v !== false) q.set(k, String(v));
  return q;
}

function listPage(data) {
  return { tickets: data.tickets || [], total: data.total || 0, minimum: !!data.total_is_minimum, next: data.next_cursor || "", groups: data.groups || {} };
}

// api binds the calls to one token.
export function api(token) {
  return {
    me: () => request(token, "GET", "/me"),
    // body: {account_id or accounts, permission_set, beneficiaries, start, duration, reason}; answers
    // the new ticket (with accounts, the group's first member).
    create: (body) => request(token, "POST", "/tickets", body),
    ticket: (id) => request(token, "GET", `/tickets/${enc(id)}`),
    hint: (id) => request(token, "GET", `/tickets/${enc(id)}/hint`),
    usage: () => request(token, "GET", "/admin/usage"),
    activity: async (id) => {
      const data = await request(token, "GET", `/tickets/${enc(id)}/activity`);
      return data.events || [];
    },
    // list answers one page: {tickets, total, minimum, next, groups}, minimum
    // when more than total may match (the server read only as far as this
    // page, in creation order). params are the
    // list's query parameters (state, mine, pending_for_me, requester,
    // beneficiary, account, permission_set, q, group, grouped, sort, order,
    // offset, limit); with grouped, groups gives each listed group's
    // members the caller sees ({id, account_id, state}) by group id.
    list: async (params) => listPage(await request(token, "GET", `/tickets?${query(params)}`)),
    // listNow is list's page at once when boot.js has it already, else null.
    listNow: (params) => {
      const data = peek(token, `/tickets?${query(params)}`);
      return data && listPage(data);
    },
    accounts: async () => (await request(token, "GET", "/accounts")).accounts || [],
    // audit answers one page of the audit log, newest first: {events, next}.
    // params: ticket, user, account, type, since, until, cursor, limit.
    audit: async (params) => {
      const data = await request(token, "GET", `/audit?${query(params)}`);
      return { events: data.events || [], next: data.next || "" };
    },
    // timeline answers a ticket's audit events, oldest first.
    timeline: async (id) => (await request(token, "GET", `/tickets/${enc(id)}/timeline`)).events || [],
    // events calls onEvent(ticketEvent) for every ticket change the server
    // announces (GET /api/v1/events, server-sent events read with fetch,
    // which can send the bearer token), and onOpen on each (re)connection.
    // The server ends a stream every 25 s; it reconnects until stop(). A
    // page left (pagehide) closes its stream at once, and one shown again
    // from the back-forward cache opens a new one: a stream kept open by a
    // page out of sight holds one of the browser's six connections to the
    // server, and a few reloads would leave the next page none.
    events: (onEvent, onOpen) => {
      let ctl = null;
      let stopped = false;
      const read = async (signal) => {
        const res = await fetch("/api/v1/events", { headers: { Authorization: `Bearer ${token}` }, signal });
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += value;
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let name = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) name = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (name === "ready") onOpen && onOpen();
            else if (name === "ticket") {
              try {
                onEvent(JSON.parse(data));
              } catch {
                // a malformed event is skipped
              }
            }
          }
        }
      };
      const run = async () => {
        const mine = new AbortController();
        ctl = mine;
        while (!stopped && ctl === mine) {
          try {
            await read(mine.signal);
          } catch {
            if (mine.signal.aborted) return;
            await new Promise((r) => setTimeout(r, 3000)); // the server is away: try again soon
          }
        }
      };
      const hide = () => ctl && ctl.abort();
      const show = (e) => e.persisted && !stopped && run();
      window.addEventListener("pagehide", hide);
      window.addEventListener("pageshow", show);
      run();
      return () => {
        stopped = true;
        window.removeEventListener("pagehide", hide);
        window.removeEventListener("pageshow", show);
        hide();
      };
    },
    // approve and reject send the revision the page showed; the server
    // refuses a decision on another revision with 409.
    approve: (id, comment, revision) => request(token, "POST", `/tickets/${enc(id)}/approve`, { comment, revision }),
    reject: (id, comment, revision) => request(token, "POST", `/tickets/${enc(id)}/reject`, { comment, revision }),
    terminate: (id, comment) => request(token, "POST", `/tickets/${enc(id)}/terminate`, { comment }),
    review: (id, comment) => request(token, "POST", `/tickets/${enc(id)}/review`, { comment }),
    done: (id, comment) => request(token, "POST", `/tickets/${enc(id)}/done`, { comment }),
    cancel: (id, comment) => request(token, "POST", `/tickets/${enc(id)}/cancel`, { comment }),
    // extend: {duration or end, reason}; edit: any of {start, duration, end, reason, permission_set, beneficiaries}.
    extend: (id, body) => request(token, "POST", `/tickets/${enc(id)}/extend`, body),
    edit: (id, body) => request(token, "PUT", `/tickets/${enc(id)}`, body),
    delegations: async () => (await request(token, "GET", "/delegations")).delegations || [],
    delegate: (body) => request(token, "POST", "/delegations", body),
    endDelegation: (id) => request(token, "DELETE", `/delegations/${enc(id)}`),
    preApprovals: async () => (await request(token, "GET", "/preapprovals")).preapprovals || [],
    preApprove: (body) => request(token, "POST", "/preapprovals", body),
    revokePreApproval: (id) => request(token, "DELETE", `/preapprovals/${enc(id)}`),
    registry: () => request(token, "GET", "/registry"),
    consoleURL: async (id) => {
      const data = await request(token, "GET", `/tickets/${enc(id)}/console`);
      if (!data.url) throw new ApiError(200, "bad_response", "The server sent no console URL.");
      return data.url;
    },
  };
}
