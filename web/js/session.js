/**
 * Who acts and whether the page may read and write.
 *
 * A server started with --token needs it for every request (unless it was
 * made --public-read: then for writes only). The token is asked for once per
 * tab: before anything is shown when reads need it, else before the write
 * controls show. Write controls (every element with class `write-only`)
 * show only when the server accepts writes: not read-only, and holding the
 * token when the server needs one. A refused token is forgotten and asked
 * for again, and the controls hide meanwhile (what was typed in them stays).
 *
 * Every write acts as the agent chosen in the "Act as" box: a registered
 * agent from the list or any id typed in, remembered for this tab. Nothing
 * is written until someone is chosen: a change is never recorded as another
 * agent's.
 */
import { $, formMessage, h, region, setText } from './dom.js';
import { ApiError, errorText, getToken, setToken } from './api.js';

const AGENT_KEY = 'orchestrator.agent';
let health = null;
let tokenChanged = () => {};

/** Calls fn when the tab's token is given or refused by a write (the page then reads again with it). */
export function whenTokenChanges(fn) {
  tokenChanged = fn;
}

function readsNeedToken() {
  return !!(health && health.reads_need_token);
}

/** Does the server accept writes from this tab now? */
export function canWrite() {
  return !!health && !health.read_only && (!health.token_required || !!getToken());
}

function applyAccess() {
  const ro = !!(health && health.read_only);
  document.body.classList.toggle('read-only', ro);
  document.body.classList.toggle('can-write', canWrite());
  const mode = $('mode');
  mode.hidden = !ro;
  mode.textContent = ro ? 'read-only' : '';
  const needToken = !!(health && health.token_required && !getToken() && (readsNeedToken() || !ro));
  $('token-form').hidden = !needToken;
  setText('token-label', readsNeedToken() ? 'This server needs a token' : 'This server needs a token for writes');
  $('token-forget').hidden = !(health && health.token_required && getToken());
}

/** Called with every /api/health answer. */
export function applyHealth(hl) {
  const first = !health;
  health = hl;
  applyAccess();
  if (first && hl.token_required && !getToken() && !hl.read_only && !hl.reads_need_token) setText('token-message', 'Reading works without it; to change the board, paste the token.');
}

/** The token was refused (401), or reads need one the tab lacks: forget it and ask. */
export function tokenRefused() {
  const had = !!getToken();
  setToken(null);
  applyAccess();
  const paste = 'Paste the token printed by the serve command (the #token= part of its URL)';
  setText('token-message', had ? 'The token was refused; paste a valid one.' : readsNeedToken() ? paste + ' to see the board.' : paste + '.');
  $('token-input').focus();
}

function onToken(ev) {
  ev.preventDefault();
  const value = $('token-input').value.trim();
  if (!value) {
    setText('token-message', 'Paste the token printed by the serve command.');
    return;
  }
  setToken(value);
  $('token-input').value = '';
  setText('token-message', '');
  applyAccess();
  $('act-as').focus();
  tokenChanged();
}

// --- acting agent -------------------------------------------------------------

/** The agent this tab acts as ('' when none is chosen). */
export function actingAgent() {
  return $('act-as').value.trim();
}

/**
 * The acting agent, or null after saying that one must be chosen first and
 * moving the focus to the box. `say` is a message element (or its id), or a
 * function that shows the text.
 */
export function requireAgent(say) {
  const agent = actingAgent();
  if (agent) return agent;
  const text = 'Choose who you act as first (the "Act as" box at the top).';
  if (typeof say === 'function') say(text);
  else formMessage(say, text, 'error');
  const box = $('act-as');
  box.setAttribute('aria-invalid', 'true');
  box.focus();
  return null;
}

/** The registered agents offered in the "Act as" list. */
export function offerAgents(agents) {
  const ids = agents.map((a) => a.id).sort();
  region('agent-ids', ids, (list) => list.map((id) => h('option', { value: id })));
}

/**
 * Words for a failed write, with its side effects: a refused token is
 * forgotten (the token box shows), an invalid acting agent marks the box.
 */
export function writeError(err) {
  if (err instanceof ApiError && err.status === 401) {
    // Unless the tab was given another token meanwhile.
    if (err.tokenSent !== getToken()) return 'the token changed while this was sent; try again.';
    tokenRefused();
    tokenChanged();
    return 'the server needs its token for writes (paste it at the top): ' + err.message;
  }
  if (err instanceof ApiError && err.status === 400 && (err.data.field === 'agent' || err.data.field === 'by')) {
    $('act-as').setAttribute('aria-invalid', 'true');
  }
  return errorText(err);
}

export function initSession() {
  const box = $('act-as');
  try {
    box.value = sessionStorage.getItem(AGENT_KEY) || '';
  } catch {
    /* storage disabled: the choice lasts as long as the page */
  }
  box.addEventListener('input', () => {
    box.removeAttribute('aria-invalid');
    try {
      const v = box.value.trim();
      if (v) sessionStorage.setItem(AGENT_KEY, v);
      else sessionStorage.removeItem(AGENT_KEY);
    } catch {
      /* as above */
    }
  });
  $('token-form').addEventListener('submit', onToken);
  $('token-forget').addEventListener('click', () => {
    setToken(null);
    // What this tab was shown needed the token: show it no longer.
    if (readsNeedToken()) {
      location.reload();
      return;
    }
    applyAccess();
    setText('token-message', 'Token forgotten.');
  });
}
