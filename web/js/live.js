/**
 * Keeping the page current: reads health, status, the timeline and the audit
 * trail, and hands them to whoever subscribed. Updates arrive through
 * Server-Sent Events (/api/stream, one event per new commit); when the stream
 * fails the page polls every 5 s until it comes back. The connection state
 * is shown in the top bar, failures in the banner.
 */
import { $, setText } from './dom.js';
import { ApiError, request } from './api.js';
import { clockTime } from './time.js';

export const POLL_MS = 5000;
/** Even while live, re-read now and then: stale marks and lock expiry change without commits. */
const SAFETY_REFRESH_MS = 30000;
const EVENTS_SHOWN = 30;
const LOG_SHOWN = 20;

/** The latest answers from the server. */
export const data = { health: null, status: null, events: [], log: [], lastUpdate: 0 };

const listeners = { health: [], status: [], feeds: [], after: [] };

/**
 * Calls fn with `data` when part of it arrives: 'health', 'status', 'feeds'
 * (events and log), or 'after' (a refresh ended, well or not).
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
  // Health and status are the page and are shown as soon as they arrive; the timeline and the
  // audit trail follow, and keep their last view if only they fail.
  const keep = (previous) => (err) => {
    if (err.status === 0) throw err;
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
    const [health, status] = await Promise.all([request('GET', 'api/health'), request('GET', 'api/status')]);
    fetchFailed = false;
    data.lastUpdate = Date.now();
    data.health = health;
    showHealth(health);
    emit('health');
    data.status = status;
    emit('status');
    const [events, log] = await feeds;
    data.events = Array.isArray(events) ? events : [];
    data.log = Array.isArray(log) ? log : [];
    emit('feeds');
  } catch (err) {
    if (!(err instanceof ApiError)) {
      // A fault of this page, not of the connection.
      console.error(err);
      showBanner('This update could not be shown: ' + (err && err.message ? err.message : String(err)));
      return;
    }
    fetchFailed = true;
    showBanner(
      err.status === 0
        ? 'Cannot reach the server' + (data.lastUpdate ? '; showing the board as of ' + clockTime(new Date(data.lastUpdate).toISOString()) : '') + '.'
        : 'The server answered with an error: ' + err.message,
    );
  }
}

/** What health says about the remote, in the footer and the banner. */
function showHealth(hl) {
  setText('foot-remote', hl.remote ? 'remote: ' + hl.remote : 'local branch (no remote)');
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

function updateConnection() {
  const mode = fetchFailed ? 'offline' : streamOpen ? 'live' : data.lastUpdate ? 'polling' : 'connecting';
  const conn = $('conn');
  conn.className = 'conn conn-' + mode;
  conn.dataset.state = mode;
  setText('conn-label', mode);
  conn.title = {
    live: 'Live: the server pushes every new commit',
    polling: 'The live stream is unavailable; checking every ' + POLL_MS / 1000 + ' s',
    offline: 'The server cannot be reached',
    connecting: 'Connecting',
  }[mode];
}

/** Polls every 5 s; the first look is immediate (a commit may have come while the stream was failing). */
function startPolling() {
  if (pollTimer) return;
  pollTimer = setInterval(refresh, POLL_MS);
  refresh();
}

function stopPolling() {
  if (!pollTimer) return;
  clearInterval(pollTimer);
  pollTimer = null;
}

function connect() {
  if (typeof EventSource !== 'function') {
    startPolling();
    return;
  }
  let es;
  try {
    es = new EventSource('api/stream');
  } catch {
    startPolling();
    return;
  }
  stream = es;
  es.addEventListener('open', () => {
    streamOpen = true;
    stopPolling();
    updateConnection();
  });
  es.addEventListener('commit', () => {
    streamOpen = true;
    stopPolling();
    refresh();
  });
  es.addEventListener('error', () => {
    streamOpen = false;
    startPolling();
    updateConnection();
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (a non-stream answer): try a fresh stream later, poll meanwhile.
      es.close();
      if (stream === es) stream = null;
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(connect, 15000);
    }
  });
}

/** First read, the stream, and the safety nets (a periodic re-read, a re-read when the tab shows again). */
export function goLive() {
  updateConnection();
  refresh();
  connect();
  setInterval(() => {
    if (streamOpen) refresh();
  }, SAFETY_REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
}
