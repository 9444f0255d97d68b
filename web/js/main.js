/**
 * The live dashboard, started here. Plain DOM and ES modules: no framework,
 * no build step, nothing from elsewhere (the page's CSP allows scripts from
 * this server only).
 *
 *   api.js        requests, the token, errors in words
 *   live.js       reading the server: its event stream, with a polling fallback
 *   session.js    whether this tab may read and write, and as which agent
 *   board.js      summary and workstreams with their tasks
 *   work.js       creating workstreams and tasks, task actions
 *   agents.js, locks.js, history.js, knowledge.js   the other panels
 *   dom.js, time.js, markdown.js                    text-only building blocks
 */
import { takeToken } from './api.js';
import { data, goLive, on, restart } from './live.js';
import { tickAges } from './time.js';
import { applyHealth, initSession, offerAgents, tokenRefused, whenTokenChanges } from './session.js';
import { renderBoard } from './board.js';
import { initWork, updateWork } from './work.js';
import { renderAgents } from './agents.js';
import { renderLocks, tickLocks } from './locks.js';
import { renderHistory } from './history.js';
import { initKnowledge, renderKnowledge } from './knowledge.js';
import { $, setText } from './dom.js';
import { clockTime } from './time.js';

function tick() {
  tickAges();
  tickLocks();
  if (data.lastUpdate) {
    setText('updated', 'updated ' + clockTime(new Date(data.lastUpdate).toISOString()));
    $('updated').title = 'Last update ' + new Date(data.lastUpdate).toLocaleString();
  }
}

function start() {
  takeToken();
  initSession();
  initWork();
  initKnowledge();
  on('health', (d) => applyHealth(d.health));
  // Reads need a token the tab lacks (or was refused): ask for it; once given, read again with it.
  on('locked', () => tokenRefused());
  whenTokenChanges(restart);
  on('status', (d) => {
    const s = d.status;
    if (!s.branch && d.health) s.branch = d.health.branch;
    renderBoard(s);
    updateWork(s);
    renderAgents(s.agents || []);
    offerAgents(s.agents || []);
    renderLocks(s.active_locks || []);
    renderKnowledge(s);
  });
  on('feeds', (d) => renderHistory(d.status, d.events, d.log));
  on('after', tick);
  goLive();
  setInterval(tick, 1000);
}

start();
