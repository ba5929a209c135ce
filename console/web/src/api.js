// Client for the JIT JSON API under /api/v1. Every call sends the ID token
// as a bearer token; failures throw ApiError with the server's message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(token, method, path, body) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, "network", `Network error: ${e.message}`);
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const message = (data && data.message) || `${res.status} ${res.statusText}`.trim();
    throw new ApiError(res.status, (data && data.code) || "", message);
  }
  if (data === null) throw new ApiError(res.status, "bad_response", "The server's answer is not JSON.");
  return data;
}

const enc = encodeURIComponent;

// api binds the calls to one token.
export function api(token) {
  return {
    me: () => request(token, "GET", "/me"),
    // body: {account_id, permission_set, beneficiaries, start, duration, reason}; answers the new ticket.
    create: (body) => request(token, "POST", "/tickets", body),
    ticket: (id) => request(token, "GET", `/tickets/${enc(id)}`),
    activity: async (id) => {
      const data = await request(token, "GET", `/tickets/${enc(id)}/activity`);
      return data.events || [];
    },
    // filter: "" (all), "pending_for_me" or "mine".
    tickets: async (filter) => {
      const q = filter ? `?${filter}=true` : "";
      const data = await request(token, "GET", `/tickets${q}`);
      return data.tickets || [];
    },
    // approve and reject send the revision the page showed; the server
    // refuses a decision on another revision with 409.
    approve: (id, comment, revision) => request(token, "POST", `/tickets/${enc(id)}/approve`, { comment, revision }),
    reject: (id, comment, revision) => request(token, "POST", `/tickets/${enc(id)}/reject`, { comment, revision }),
    terminate: (id, comment) => request(token, "POST", `/tickets/${enc(id)}/terminate`, { comment }),
    done: (id, comment) => request(token, "POST", `/tickets/${enc(id)}/done`, { comment }),
    cancel: (id, comment) => request(token, "POST", `/tickets/${enc(id)}/cancel`, { comment }),
    consoleURL: async (id) => {
      const data = await request(token, "GET", `/tickets/${enc(id)}/console`);
      if (!data.url) throw new ApiError(200, "bad_response", "The server sent no console URL.");
      return data.url;
    },
  };
}
