/**
 * The history panels: the event timeline (newest first, each event's
 * details as key/value text) and the audit trail of commits (newest first,
 * marking the commit the page shows).
 */
import { h, region } from './dom.js';
import { clockTime } from './time.js';

const ACTION_KIND = { task: 'task', workstream: 'ws', agent: 'agent', lock: 'lock', knowledge: 'kb' };

export function renderHistory(status, events, log) {
  region('events', events.slice().reverse(), renderEvents);
  region('log', { log, commit: status.commit }, renderLog);
}

function renderEvents(events) {
  if (!events.length) return [h('li', { class: 'muted small', text: 'No events yet.' })];
  return events.map((e) => {
    const action = String(e.action || '');
    const kind = ACTION_KIND[action.split(/[_.]/)[0]] || 'other';
    const details = [];
    for (const k of Object.keys(e)) {
      if (k === 'ts' || k === 'agent' || k === 'action') continue;
      const v = e[k];
      let text = typeof v === 'string' ? v : JSON.stringify(v);
      if (text && text.length > 160) text = text.slice(0, 157) + '…';
      details.push(h('span', { class: 'kv' }, h('span', { class: 'k', text: k.replace(/_/g, ' ') }), h('span', { class: 'v', text })));
    }
    return h(
      'li',
      { class: 'event ev-' + kind },
      h('span', { class: 'ev-dot', 'aria-hidden': 'true' }),
      h(
        'div',
        { class: 'ev-body' },
        h('div', { class: 'ev-head' }, h('span', { class: 'ev-action', text: action.replace(/_/g, ' ') }), h('span', { class: 'ev-agent', text: e.agent }), h('time', { class: 'ev-time', datetime: e.ts, title: String(e.ts), text: clockTime(e.ts) })),
        details.length ? h('div', { class: 'ev-details' }, details) : null,
      ),
    );
  });
}

function renderLog({ log, commit }) {
  if (!log.length) return [h('li', { class: 'muted small', text: 'No commits yet.' })];
  return log.map((c) => {
    const current = c.id === commit;
    return h(
      'li',
      { class: 'commit' + (current ? ' current' : ''), data: { commit: c.id } },
      h('span', { class: 'sha mono', title: c.id, text: String(c.id).slice(0, 7) }),
      h('span', { class: 'subject', text: c.subject }),
      h('span', { class: 'commit-meta' }, h('span', { class: 'commit-agent', text: c.agent }), h('time', { datetime: c.time, title: String(c.time), text: clockTime(c.time) }), current ? h('span', { class: 'chip chip-current', text: 'shown' }) : null),
    );
  });
}
