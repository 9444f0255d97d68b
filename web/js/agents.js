/** The agents panel: each agent's type, status, capabilities, heartbeat age and stale mark. */
import { empty, h, region, setText } from './dom.js';
import { age } from './time.js';

export function renderAgents(agents) {
  region('agents', agents, build);
  const stale = agents.filter((a) => a.stale).length;
  setText('agents-note', agents.length ? agents.length + (stale ? ' · ' + stale + ' stale' : '') : '');
}

function build(agents) {
  if (!agents.length) return [h('li', { class: 'empty-row' }, empty('No agents registered.', 'orchestrator agent register <id> [type]'))];
  return agents
    .slice()
    .sort((a, b) => (a.stale ? 1 : 0) - (b.stale ? 1 : 0) || (a.id < b.id ? -1 : 1))
    .map((a) =>
      h(
        'li',
        { class: 'row agent' + (a.stale ? ' stale' : ''), data: { agent: a.id } },
        h('span', { class: 'avatar', 'aria-hidden': 'true', text: (a.id || '?').slice(0, 1).toUpperCase() }),
        h(
          'div',
          { class: 'row-main' },
          h('div', { class: 'row-title' }, h('span', { class: 'agent-id', text: a.id }), a.stale ? h('span', { class: 'badge badge-stale', title: 'No heartbeat within the stale window', text: 'STALE' }) : null),
          h(
            'div',
            { class: 'row-sub' },
            h('span', { text: a.type }),
            a.status ? h('span', { class: 'sep', text: a.status }) : null,
            (a.capabilities || []).map((c) => h('span', { class: 'chip chip-cap', text: c })),
          ),
        ),
        h('div', { class: 'row-side' }, h('span', { class: 'muted small', text: 'heartbeat' }), age(a.last_seen, 'heartbeat')),
      ),
    );
}
