/**
 * Talking to the server: JSON requests to /api, the token, and errors turned
 * into words.
 *
 * The token (for servers started with --token) comes once per tab: from the
 * `#token=` fragment of the URL `serve` prints, or typed into the page. It is
 * kept in sessionStorage (this tab only, gone when the tab closes) and taken
 * out of the address bar at once. Every request carries it in its
 * Authorization header (reads too: such a server answers nothing but
 * /api/health without it), never in a URL.
 */
import { noteServerClock } from './time.js';

const TOKEN_KEY = 'orchestrator.token';
let token = null;

/** A refused or failed request: HTTP status (0 when the server was not reached), stable code, details. */
export class ApiError extends Error {
  constructor(message, status, code, data) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || null;
    this.data = data && typeof data === 'object' ? data : {};
  }
}

export function getToken() {
  return token;
}

/** Keeps the token for this tab (null forgets it). */
export function setToken(value) {
  token = value || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage may be disabled; the token then lives as long as the page */
  }
}

/** `#token=...` in the URL goes to sessionStorage and out of the address bar; else the tab's stored one. */
export function takeToken() {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (m) {
    let value = m[1];
    try {
      value = decodeURIComponent(m[1]);
    } catch {
      /* keep it as written */
    }
    if (value) setToken(value);
    history.replaceState(null, '', location.pathname + location.search);
  }
  if (!token) {
    try {
      token = sessionStorage.getItem(TOKEN_KEY);
    } catch {
      token = null;
    }
  }
}

/** The headers that prove the token, when the tab holds one. */
export function authHeaders(headers) {
  const out = Object.assign({}, headers);
  if (token) out.Authorization = 'Bearer ' + token;
  return out;
}

/**
 * One JSON request, with the token when the tab holds one. Writes carry a
 * JSON body. Resolves with the parsed answer; rejects with an ApiError.
 */
export async function request(method, url, body) {
  const sent = token;
  const init = { method, headers: authHeaders({ Accept: 'application/json' }), credentials: 'same-origin', cache: 'no-cache' };
  if (method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body || {});
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    throw new ApiError('cannot reach the server', 0, 'NETWORK');
  }
  noteServerClock(res);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const message = data && typeof data.error === 'string' ? data.error : 'HTTP ' + res.status + ' ' + res.statusText;
    const err = new ApiError(message, res.status, data && data.code, data && (data.data || data));
    // A 401 says the token it was sent with is wrong: the tab may hold another one by now.
    err.tokenSent = sent;
    throw err;
  }
  return data;
}

/** A path under /api with each part encoded: api('workstreams', ws, 'tasks'). */
export function api(...parts) {
  return 'api/' + parts.map((p) => encodeURIComponent(p)).join('/');
}

/**
 * What went wrong, in words: the server's message (it names the field, the
 * holder, the status), with the holder added when only the details carry it.
 */
export function errorText(err) {
  if (!(err instanceof ApiError)) return String((err && err.message) || err);
  if (err.status === 0) return 'the server cannot be reached; nothing was changed.';
  if (err.code === 'READ_ONLY') return 'this server is read-only.';
  let text = err.message.replace(/\bin_progress\b/g, 'in progress');
  const holder = err.data.holder || err.data.assigned_to;
  if (holder && !text.includes(holder)) text += ' (held by ' + holder + ')';
  return text;
}
