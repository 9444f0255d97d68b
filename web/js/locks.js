/** The active locks panel: resource, holder, since when, and a countdown with a bar that empties. */
import { h, region, setText } from './dom.js';
import { clockTime, duration, now } from './time.js';

export function renderLocks(locks) {
  region('locks', locks, build);
  setText('locks-note', locks.length ? String(locks.length) : '');
}

function build(locks) {
  if (!locks.length) return [h('li', { class: 'empty-row' }, h('p', { class: 'muted small', text: 'No locks held.' }))];
  return locks.map((l) => {
    const row = h(
      'li',
      { class: 'row lock js-left', data: { until: l.expires_at, ttl: l.ttl_ms, resource: l.resource } },
      h(
        'div',
        { class: 'row-main' },
        h('div', { class: 'row-title mono', text: l.resource }),
        h('div', { class: 'row-sub' }, h('span', { text: 'held by ' }), h('strong', { text: l.agent }), h('span', { class: 'sep', text: 'since ' + clockTime(l.acquired_at) })),
        h('div', { class: 'lock-bar' }, h('span', { class: 'lock-fill' })),
      ),
      h('div', { class: 'row-side' }, h('span', { class: 'lock-left', title: 'Expires ' + l.expires_at })),
    );
    countdown(row);
    return row;
  });
}

/** A lock row's time left and bar. */
function countdown(row) {
  const left = Date.parse(row.dataset.until) - now();
  const ttl = Number(row.dataset.ttl) || 0;
  const label = row.querySelector('.lock-left');
  const fill = row.querySelector('.lock-fill');
  if (label) setText(label, left > 0 ? duration(left) + ' left' : 'expired');
  row.classList.toggle('expired', left <= 0);
  row.classList.toggle('ending', left > 0 && left < 10000);
  if (fill && ttl > 0) fill.style.width = Math.max(0, Math.min(100, (left / ttl) * 100)).toFixed(1) + '%';
}

/** Every second: the countdowns move between updates. */
export function tickLocks() {
  for (const row of document.querySelectorAll('.js-left')) countdown(row);
}
