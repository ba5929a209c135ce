// OIDC authorization code flow with PKCE for a public client.
// The ID token is kept in sessionStorage only; it is never logged.

const TOKEN_KEY = "jit.id_token";
const VERIFIER_KEY = "jit.pkce.verifier";
const STATE_KEY = "jit.pkce.state";
const NONCE_KEY = "jit.pkce.nonce";
const RETURN_KEY = "jit.return_to";

export const CALLBACK_PATH = "/callback";

export class LoginError extends Error {}

function base64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(n = 32) {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return base64url(bytes);
}

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return new Uint8Array(digest);
}

// decodePayload returns the JWT's payload claims, or null if it is not a JWT.
export function decodePayload(jwt) {
  try {
    const part = jwt.split(".")[1];
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

// storedToken returns the stored ID token if it has not expired, else null.
export function storedToken() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const claims = decodePayload(token);
  if (!claims || typeof claims.exp !== "number" || claims.exp * 1000 <= Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return token;
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function signOut() {
  sessionStorage.clear();
}

async function getJSON(url, what) {
  let res;
  try {
    res = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (e) {
    throw new LoginError(`Could not load ${what}: ${e.message}`);
  }
  if (!res.ok) throw new LoginError(`Could not load ${what}: HTTP ${res.status}`);
  try {
    return await res.json();
  } catch {
    throw new LoginError(`Could not load ${what}: the answer is not JSON`);
  }
}

async function discover() {
  const config = await getJSON("/config.json", "/config.json");
  if (!config.issuer || !config.client_id) {
    throw new LoginError("/config.json has no issuer or client_id");
  }
  const issuer = config.issuer.replace(/\/+$/, "");
  const meta = await getJSON(`${issuer}/.well-known/openid-configuration`, "the OpenID configuration");
  if (!meta.authorization_endpoint || !meta.token_endpoint) {
    throw new LoginError("The OpenID configuration has no authorization or token endpoint");
  }
  return { config, meta };
}

function redirectURI() {
  return `${window.location.origin}${CALLBACK_PATH}`;
}

// startLogin sends the browser to the identity provider. It never returns
// normally unless it fails. With stepUp ({ maxAge } in seconds), it asks
// the provider to authenticate the user afresh (OIDC max_age and
// prompt=login), for decisions that need a recent sign-in.
export async function startLogin(stepUp) {
  const { config, meta } = await discover();
  const verifier = randomString(32);
  const challenge = base64url(await sha256(verifier));
  const state = randomString(16);
  const nonce = randomString(16);
  const here = window.location.pathname + window.location.search + window.location.hash;
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(STATE_KEY, state);
  sessionStorage.setItem(NONCE_KEY, nonce);
  sessionStorage.setItem(RETURN_KEY, window.location.pathname === CALLBACK_PATH ? "/" : here);
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectURI(),
    scope: config.scopes || "openid email profile",
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  if (stepUp) {
    params.set("max_age", String(Math.max(0, Math.floor(stepUp.maxAge || 0))));
    params.set("prompt", "login");
  }
  const sep = meta.authorization_endpoint.includes("?") ? "&" : "?";
  window.location.assign(meta.authorization_endpoint + sep + params.toString());
}

const STEP_UP_KEY = "jit.step_up_at";

// startStepUp answers a step_up_required refusal: it sends the browser to
// the identity provider for a fresh sign-in (back to this page after) and
// returns true, unless it already did in the last two minutes (the
// provider did not sign the user in afresh: no loop), when it returns false.
export function startStepUp(maxAge) {
  const last = Number(sessionStorage.getItem(STEP_UP_KEY) || 0);
  if (Date.now() - last < 2 * 60 * 1000) return false;
  sessionStorage.setItem(STEP_UP_KEY, String(Date.now()));
  startLogin({ maxAge }).catch(() => sessionStorage.removeItem(STEP_UP_KEY));
  return true;
}

let finishing = null;

// finishLogin completes the login on /callback and returns the ID token.
// It runs once per page load even if called twice.
export function finishLogin() {
  if (!finishing) finishing = doFinishLogin();
  return finishing;
}

async function doFinishLogin() {
  const q = new URLSearchParams(window.location.search);
  if (q.get("error")) {
    const desc = q.get("error_description");
    throw new LoginError(`Login failed: ${q.get("error")}${desc ? ` (${desc})` : ""}`);
  }
  const code = q.get("code");
  const state = q.get("state");
  const wantState = sessionStorage.getItem(STATE_KEY);
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const wantNonce = sessionStorage.getItem(NONCE_KEY);
  if (!state || !wantState || state !== wantState) {
    throw new LoginError("Login failed: state mismatch");
  }
  if (!code || !verifier) throw new LoginError("Login failed: no authorization code");

  const { config, meta } = await discover();
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectURI(),
    client_id: config.client_id,
    code_verifier: verifier,
  });
  let res;
  try {
    res = await fetch(meta.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: body.toString(),
    });
  } catch (e) {
    throw new LoginError(`Login failed: ${e.message}`);
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    // handled below
  }
  if (!res.ok || !data) {
    const why = (data && (data.error_description || data.error || data.message)) || `HTTP ${res.status}`;
    throw new LoginError(`Login failed: ${why}`);
  }
  const token = data.id_token;
  const claims = token ? decodePayload(token) : null;
  if (!claims) throw new LoginError("Login failed: no ID token in the answer");
  if (claims.nonce !== wantNonce) throw new LoginError("Login failed: nonce mismatch");

  sessionStorage.setItem(TOKEN_KEY, token);
  const returnTo = sessionStorage.getItem(RETURN_KEY) || "/";
  for (const k of [VERIFIER_KEY, STATE_KEY, NONCE_KEY, RETURN_KEY]) sessionStorage.removeItem(k);
  // Only same-origin paths: never follow a stored absolute URL.
  const safe = returnTo.startsWith("/") && !returnTo.startsWith("//") ? returnTo : "/";
  window.history.replaceState(null, "", safe);
  return token;
}
