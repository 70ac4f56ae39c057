// HTTP JSON API client: bearer tokens kept in localStorage (shared by every tab),
// one refresh attempt on 401, then back to the login page.

const ACCESS = "aict.access";
const REFRESH = "aict.refresh";
const ACCESS_EXPIRES = "aict.accessExpires";
const EXPIRY_MARGIN_MS = 30_000;
/** Where a user enrols two-factor authentication (and an admin must, under REQUIRE_TOTP_FOR_ADMINS). */
export const ACCOUNT_PAGE = "/account";

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export function accessToken() {
  return localStorage.getItem(ACCESS);
}

export function hasTokens() {
  return Boolean(localStorage.getItem(ACCESS) || localStorage.getItem(REFRESH));
}

export function storeTokens({ access_token, refresh_token, expires_in }) {
  localStorage.setItem(ACCESS, access_token);
  if (refresh_token) localStorage.setItem(REFRESH, refresh_token);
  const seconds = Number(expires_in) || 900;
  localStorage.setItem(ACCESS_EXPIRES, String(Date.now() + seconds * 1000));
}

export function clearTokens() {
  localStorage.removeItem(ACCESS);
  localStorage.removeItem(REFRESH);
  localStorage.removeItem(ACCESS_EXPIRES);
}

export function accessTokenExpired() {
  const expires = Number(localStorage.getItem(ACCESS_EXPIRES) || 0);
  return !accessToken() || Date.now() > expires - EXPIRY_MARGIN_MS;
}

/** Where the login page sends the user back to: a same-origin path only. */
export function safeNextPath(raw) {
  if (typeof raw !== "string" || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) {
    return "/";
  }
  return raw;
}

let loggingOut = false;

export function goToLogin() {
  if (loggingOut) return; // logout() goes to the login page itself
  const next = location.pathname + location.search;
  location.assign("/login?next=" + encodeURIComponent(next));
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

let refreshing = null;

/** Trade the refresh token for a new access token; shared by concurrent callers. */
export function refreshAccessToken() {
  if (!refreshing) {
    refreshing = (async () => {
      const refresh = localStorage.getItem(REFRESH);
      if (!refresh) return false;
      let response;
      try {
        response = await fetch("/api/auth/refresh", {
          method: "POST",
          headers: { Authorization: "Bearer " + refresh },
        });
      } catch {
        throw new ApiError(0, "network", "The server cannot be reached.");
      }
      if (!response.ok) {
        if (response.status === 401 || response.status === 403) {
          clearTokens();
          return false;
        }
        throw errorFrom(response, await parseBody(response));
      }
      storeTokens(await response.json());
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** An access token that is not about to expire, refreshing it when needed; null when logged out. */
export async function freshAccessToken() {
  if (accessTokenExpired()) {
    const ok = await refreshAccessToken();
    if (!ok) return null;
  }
  return accessToken();
}

async function send(method, path, json, token) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  const init = { method, headers };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached. Check your connection and try again.");
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
    const ok = await refreshAccessToken().catch(() => false);
    if (ok) {
      token = accessToken();
      response = await send(method, path, json, token);
    }
    if (response.status === 401) {
      clearTokens();
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

/** Fetch a file from the API with the bearer token and hand it to the browser as a download. */
export async function download(path, filename) {
  let response = await send("GET", path, undefined, await freshAccessToken().catch(() => accessToken()));
  if (response.status === 401 && (await refreshAccessToken().catch(() => false))) {
    response = await send("GET", path, undefined, accessToken());
  }
  if (!response.ok) throw errorFrom(response, await parseBody(response));
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export async function login(username, password, otp) {
  const payload = { username, password };
  if (otp) payload.otp = otp;
  const response = await send("POST", "/api/auth/login", payload);
  const body = await parseBody(response);
  if (!response.ok) {
    const err = errorFrom(response, body);
    const retry = response.headers.get("Retry-After");
    if (retry) err.retryAfter = Number(retry);
    throw err;
  }
  storeTokens(body);
  return body;
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

export async function logout() {
  loggingOut = true;
  const token = accessToken();
  clearStoredState();
  if (token) {
    await send("POST", "/api/auth/logout", undefined, token).catch(() => {});
  }
}
