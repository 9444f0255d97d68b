/**
 * Keeping the page current: reads health, status, the timeline and the audit
 * trail, and hands them to whoever subscribed. Updates arrive through the
 * server's event stream (/api/stream, one event per new commit), read with
 * fetch: it sends the token in its Authorization header like every other
 * request (EventSource cannot send headers, and a token in the stream's URL
 * would end up in logs). When the stream fails the page polls every 5 s
 * until it comes back. On a server whose reads need the token, nothing but
 * /api/health is read until the tab holds it ('locked'). The connection
 * state is shown in the top bar, failures in the banner.
 */
import { $, setText } from './dom.js';
import { ApiError, authHeaders, getToken, request } from './api.js';
import { clockTime } from './time.js';

export const POLL_MS = 5000;
/** Even while live, re-read now and then: stale marks and lock expiry change without commits. */
const SAFETY_REFRESH_MS = 30000;
/** A stream that ended (a restart, a network change) is opened again soon; one the server refused, later. */
const RECONNECT_MS = 2000;
const RETRY_REFUSED_MS = 15000;
const EVENTS_SHOWN = 30;
const LOG_SHOWN = 20;

/** The latest answers from the server. */
export const data = { health: null, status: null, events: [], log: [], lastUpdate: 0 };

const listeners = { health: [], status: [], feeds: [], after: [], locked: [] };

/**
 * Calls fn with `data` when part of it arrives: 'health', 'status', 'feeds'
 * (events and log), 'after' (a refresh ended, well or not), or 'locked'
 * (reads need a token this tab does not hold, or the one it holds was refused).
 */
export function on(what, fn) {
  listeners[what].push(fn);
}

function emit(what) {
  for (const fn of listeners[what]) fn(data);
}

let refreshing = null;
let again = false;
let fetchFailed = false;
let locked = false;

/** Reads need a token: stop reading until the tab gives one (restart). */
function lock() {
  locked = true;
  stopPolling();
  closeStream();
  updateConnection();
  emit('locked');
}

/** A 401 for the token the tab holds now (not for one it has replaced meanwhile). */
function refusedNow(err) {
  return err instanceof ApiError && err.status === 401 && err.tokenSent === getToken();
}

/** Re-reads everything; calls made meanwhile coalesce into one more pass. */
export function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = load().finally(() => {
    refreshing = null;
    updateConnection();
    emit('after');
    if (again) {
      again = false;
      refresh();
    }
  });
  return refreshing;
}

async function load() {
  let health;
  try {
    health = await request('GET', 'api/health');
  } catch (err) {
    failed(err);
    return;
  }
  fetchFailed = false;
  data.health = health;
  showHealth(health);
  emit('health');
  if (health.reads_need_token && !getToken()) {
    lock();
    return;
  }
  locked = false;
  // Status is the page and is shown as soon as it arrives; the timeline and the audit trail follow,
  // and keep their last view if only they fail.
  const keep = (previous) => (err) => {
    if (err.status === 0 || err.status === 401) throw err;
    return previous;
  };
  const feeds = Promise.all([
    request('GET', 'api/events?last=' + EVENTS_SHOWN).catch(keep(data.events)),
    request('GET', 'api/log?last=' + LOG_SHOWN).catch(keep(data.log)),
  ]);
  feeds.catch(() => {
    /* reported below */
  });
  try {
    const status = await request('GET', 'api/status');
    data.lastUpdate = Date.now();
    data.status = status;
    emit('status');
    const [events, log] = await feeds;
    data.events = Array.isArray(events) ? events : [];
    data.log = Array.isArray(log) ? log : [];
    emit('feeds');
  } catch (err) {
    failed(err);
  }
}

function failed(err) {
  if (!(err instanceof ApiError)) {
    // A fault of this page, not of the connection.
    console.error(err);
    showBanner('This update could not be shown: ' + (err && err.message ? err.message : String(err)));
    return;
  }
  if (err.status === 401) {
    if (refusedNow(err)) lock();
    return;
  }
  fetchFailed = true;
  showBanner(
    err.status === 0
      ? 'Cannot reach the server' + (data.lastUpdate ? '; showing the board as of ' + clockTime(new Date(data.lastUpdate).toISOString()) : '') + '.'
      : 'The server answered with an error: ' + err.message,
  );
}

/** What health says about the remote, in the footer and the banner. */
function showHealth(hl) {
  // A server whose reads need the token says nothing more without it.
  if (!('branch' in hl)) setText('foot-remote', '');
  else setText('foot-remote', hl.remote ? 'remote: ' + hl.remote : 'local branch (no remote)');
  if (hl.fetch_error) showBanner('Fetching the remote failed: ' + hl.fetch_error + ' (the board may be behind).');
  else $('banner').hidden = true;
}

function showBanner(text) {
  const b = $('banner');
  b.textContent = text;
  b.hidden = false;
}

// --- connection ---------------------------------------------------------------

let stream = null;
let streamOpen = false;
let pollTimer = null;
let reconnectTimer = null;

const LABELS = { locked: 'token needed' };

function updateConnection() {
  const mode = locked ? 'locked' : fetchFailed ? 'offline' : streamOpen ? 'live' : data.lastUpdate ? 'polling' : 'connecting';
  const conn = $('conn');
  conn.className = 'conn conn-' + mode;
  conn.dataset.state = mode;
  setText('conn-label', LABELS[mode] || mode);
  conn.title = {
    live: 'Live: the server pushes every new commit',
    polling: 'The live stream is unavailable; checking every ' + POLL_MS / 1000 + ' s',
    offline: 'The server cannot be reached',
    connecting: 'Connecting',
    locked: 'This server shows the board only to those who give its token',
  }[mode];
}

/** Polls every 5 s; the first look is immediate (a commit may have come while the stream was failing). */
function startPolling() {
  if (pollTimer || locked) return;
  pollTimer = setInterval(refresh, POLL_MS);
  refresh();
}

function stopPolling() {
  if (!pollTimer) return;
  clearInterval(pollTimer);
  pollTimer = null;
}

function closeStream() {
  clearTimeout(reconnectTimer);
  if (stream) stream.abort();
  stream = null;
  streamOpen = false;
}

/** Reads the stream until it ends: each `event: commit` message re-reads the board. */
async function readStream(ctrl) {
  let res;
  try {
    res = await fetch('api/stream', { headers: authHeaders({ Accept: 'text/event-stream' }), credentials: 'same-origin', cache: 'no-store', signal: ctrl.signal });
  } catch {
    throw new ApiError('cannot reach the server', 0, 'NETWORK');
  }
  if (!res.ok || !res.body) {
    const err = new ApiError('the event stream is unavailable', res.status, null);
    err.tokenSent = getToken();
    throw err;
  }
  streamOpen = true;
  stopPolling();
  updateConnection();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (/^event: commit$/m.test(message)) refresh();
    }
  }
}

function connect() {
  closeStream();
  if (locked) return;
  if (typeof fetch !== 'function' || typeof AbortController !== 'function' || typeof TextDecoder !== 'function') {
    startPolling();
    return;
  }
  const ctrl = new AbortController();
  stream = ctrl;
  const ended = (delay) => {
    if (stream !== ctrl) return; // closed or replaced meanwhile
    stream = null;
    streamOpen = false;
    startPolling();
    updateConnection();
    reconnectTimer = setTimeout(connect, delay);
  };
  readStream(ctrl).then(
    () => ended(RECONNECT_MS),
    (err) => {
      if (ctrl.signal.aborted || stream !== ctrl) return;
      if (refusedNow(err)) {
        stream = null;
        lock();
        return;
      }
      // The server answered, but not with a stream: poll, and try a fresh stream later.
      ended(err instanceof ApiError && err.status ? RETRY_REFUSED_MS : RECONNECT_MS);
    },
  );
}

/** The first read, then the stream (unless reads need a token the tab lacks). */
function start() {
  refresh().then(() => {
    if (!locked) connect();
  });
}

/** The tab's token changed: read again with it, and reopen the stream. */
export function restart() {
  closeStream();
  locked = false;
  fetchFailed = false;
  updateConnection();
  start();
}

/** First read, the stream, and the safety nets (a periodic re-read, a re-read when the tab shows again). */
export function goLive() {
  updateConnection();
  start();
  setInterval(() => {
    if (streamOpen) refresh();
  }, SAFETY_REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !locked) refresh();
  });
}
