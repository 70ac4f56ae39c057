// HTTP JSON API client. The access token lives in this page's memory only; the refresh token is an
// HttpOnly cookie (scoped to /api/auth) that no script can read. A reload or a new tab gets its
// access token from the cookie. One refresh attempt on 401, then back to the login page.

// A request that uses the cookie carries this header: cross-site forms cannot, and the server
// refuses cookie requests without it.
const COOKIE_GUARD = { "X-Requested-With": "aict" };
const RENEW_MARGIN_MAX_MS = 90_000; // renew at half the token's life, at most this long before its end
// Where pages before this one kept tokens: removed wherever this code runs (in a browser).
if (typeof localStorage !== "undefined") {
  for (const key of ["aict.access", "aict.refresh", "aict.accessExpires"]) localStorage.removeItem(key);
}
/** Where a user enrols two-factor authentication (and an admin must, under REQUIRE_TOTP_FOR_ADMINS). */
export const ACCOUNT_PAGE = "/account";

/** Why a request got no answer, as the user can act on it: this device is offline, or the server is not reachable. */
export function unreachable() {
  return navigator.onLine === false
    ? "This device is offline; the page goes on once it is back online."
    : "The server cannot be reached. Check your connection and try again.";
}

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

let access = null; // {token, renewAt, expiresAt}
let hadLogin = false; // this page had a login: one that ends under it is said on the login form
let loginEnded = false;
let loggingOut = false;

export function accessToken() {
  return access ? access.token : null;
}

function keepAccessToken({ access_token, expires_in }) {
  const lifetime = (Number(expires_in) || 900) * 1000;
  const now = Date.now();
  access = {
    token: access_token,
    expiresAt: now + lifetime,
    renewAt: now + lifetime - Math.min(lifetime / 2, RENEW_MARGIN_MAX_MS),
  };
  loginEnded = false;
  hadLogin = true;
}

/** When the access token should be renewed (ms since the epoch); now when there is none. */
export function accessRenewAt() {
  return access ? access.renewAt : Date.now();
}

function accessTokenDue() {
  return !access || Date.now() >= access.renewAt;
}

/** Whether this page still has a login (not logged out, not refused by the server). */
export function loginActive() {
  return !loggingOut && !loginEnded;
}

/**
 * Where the login page sends the user back to: a path of this site only. Read as the browser will
 * read it: URLs drop tabs and newlines, so "/\t/evil.example" is "//evil.example", another site.
 * Control characters and backslashes are refused outright; what is left must stay on this origin.
 */
export function safeNextPath(raw) {
  if (typeof raw !== "string" || !raw.startsWith("/") || /[\x00-\x1f\x7f\\]/.test(raw)) return "/";
  let url;
  try {
    url = new URL(raw, THIS_SITE);
  } catch {
    return "/";
  }
  if (url.origin !== THIS_SITE || url.pathname === "/login") return "/"; // the login page: nowhere to go back to
  // The path as resolved: "/.//evil.example" resolves to "//evil.example", which as a location is
  // another site (protocol-relative); so is anything it starts with two slashes.
  if (url.pathname.startsWith("//")) return "/";
  const path = url.pathname + url.search + url.hash;
  return new URL(path, THIS_SITE).origin === THIS_SITE ? path : "/"; // what is returned stays here, read again
}
const THIS_SITE = "http://this-site.invalid";

export function goToLogin() {
  if (loggingOut) return; // logout() goes to the login page itself
  const next = location.pathname + location.search;
  location.assign("/login?next=" + encodeURIComponent(next) + (loginEnded && hadLogin ? "&ended=1" : ""));
}

async function parseBody(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorFrom(response, body) {
  const err = body && typeof body === "object" && body.error ? body.error : {};
  const message = err.message || `The server answered ${response.status} ${response.statusText}.`;
  return new ApiError(response.status, err.code || "http_" + response.status, message, body);
}

/** Forget everything the pages stored, saved screens included (they may hold secrets). */
function clearStoredState() {
  for (const storage of [localStorage, sessionStorage]) {
    const keys = [];
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i);
      if (key && key.startsWith("aict.")) keys.push(key);
    }
    keys.forEach((key) => storage.removeItem(key));
  }
}

/** The server refused the login (ended, expired, never there): drop the token and the saved screens. */
function loginHasEnded() {
  access = null;
  loginEnded = true;
  clearStoredState();
}

let refreshing = null;

// Set beside the (HttpOnly) refresh cookie and dropped with it (aict/api/auth_cookies.py): without
// it there is no login to refresh, and the page does not ask (a 401 in the console of every visit).
function mayHaveLogin() {
  return document.cookie.split(";").some((cookie) => cookie.trim().startsWith("aict_login="));
}

/** Trade the refresh cookie for a new access token; shared by concurrent callers. False: no login. */
export function refreshAccessToken() {
  if (!mayHaveLogin()) {
    loginHasEnded();
    return Promise.resolve(false);
  }
  if (!refreshing) {
    refreshing = (async () => {
      let response;
      try {
        response = await fetch("/api/auth/refresh", {
          method: "POST",
          headers: COOKIE_GUARD,
          credentials: "same-origin",
        });
      } catch {
        throw new ApiError(0, "network", unreachable());
      }
      if (!response.ok) {
        if (response.status === 401 || response.status === 403) {
          loginHasEnded();
          return false;
        }
        throw errorFrom(response, await parseBody(response));
      }
      keepAccessToken(await response.json());
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** An access token that is not about to expire, refreshing it when needed; null when logged out. */
export async function freshAccessToken() {
  if (accessTokenDue()) {
    const ok = await refreshAccessToken();
    if (!ok) return null;
  }
  return accessToken();
}

async function send(method, path, json, token, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  if (token) headers.Authorization = "Bearer " + token;
  const init = { method, headers };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", unreachable());
  }
}

/**
 * Call the JSON API with the stored access token. Resolves with the parsed body;
 * rejects with ApiError (message is for the user). A 401 refreshes once, then
 * sends the user to the login page.
 */
export async function api(method, path, json) {
  let token = await freshAccessToken().catch(() => accessToken());
  let response = await send(method, path, json, token);
  if (response.status === 401) {
    // Wrong credentials in the request itself (the current password of a password change): the
    // login is fine, the caller says what was wrong. Anything else: the token is stale or refused.
    const refused = await parseBody(response.clone()).catch(() => null);
    if (refused?.error?.code === "invalid_credentials") throw errorFrom(response, refused);
    // A refresh that could not reach the server (a dropped link, a sleeping laptop) ends nothing:
    // its network error goes to the caller and the login stays. Only the server's refusal logs out.
    const ok = await refreshAccessToken();
    if (ok) {
      token = accessToken();
      response = await send(method, path, json, token);
    }
    if (response.status === 401) {
      loginHasEnded();
      goToLogin();
      throw new ApiError(401, "not_authenticated", "Your session has ended. Please log in again.");
    }
  }
  const body = await parseBody(response);
  if (!response.ok) {
    const err = errorFrom(response, body);
    if (err.code === "totp_required" && location.pathname !== ACCOUNT_PAGE) location.assign(ACCOUNT_PAGE);
    throw err;
  }
  return body;
}

/**
 * GET a non-JSON answer of the API (a recording, an export) with the bearer token, refreshing it
 * once on 401. Resolves with the Response (read its body as it streams); an error answer rejects
 * with ApiError. `signal` aborts it.
 */
export async function fetchWithToken(path, { signal } = {}) {
  const get = async (token) => {
    try {
      return await fetch(path, { headers: token ? { Authorization: "Bearer " + token } : {}, signal });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, "network", unreachable());
    }
  };
  let response = await get(await freshAccessToken().catch(() => accessToken()));
  if (response.status === 401 && (await refreshAccessToken().catch(() => false))) {
    response = await get(accessToken());
  }
  if (!response.ok) throw errorFrom(response, await parseBody(response));
  return response;
}

/** Hand bytes to the browser as a download named `filename`. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Fetch a file from the API with the bearer token and hand it to the browser as a download. */
export async function download(path, filename) {
  const response = await fetchWithToken(path);
  saveBlob(await response.blob(), filename);
}

export async function login(username, password, otp) {
  // The refresh token comes back as an HttpOnly cookie, not in the body.
  const payload = { username, password, refresh_cookie: true };
  if (otp) payload.otp = otp;
  const response = await send("POST", "/api/auth/login", payload);
  const body = await parseBody(response);
  if (!response.ok) {
    const err = errorFrom(response, body);
    const retry = response.headers.get("Retry-After");
    if (retry) err.retryAfter = Number(retry);
    throw err;
  }
  clearStoredState(); // a new login starts with no screens saved by an earlier one
  keepAccessToken(body);
  return body;
}

/** End this login: the server revokes it and drops the cookie; the saved screens go too. */
export async function logout() {
  loggingOut = true;
  const token = accessToken();
  access = null;
  clearStoredState();
  // The cookie names the login even when the access token has run out; a bearer token is the way
  // only for a page without the cookie.
  const answer = await send("POST", "/api/auth/logout", undefined, undefined, COOKIE_GUARD).catch(() => null);
  if (answer && answer.status === 401 && token) {
    await send("POST", "/api/auth/logout", undefined, token).catch(() => {});
  }
}
