/**
 * Time as the server tells it: the page follows the server's clock when the
 * browser's is off by more than 2 s, formats times and durations, and keeps
 * every "… ago" text current between updates.
 */
import { h, setText } from './dom.js';

let clockOffset = 0;

/** Notes the server's clock from a response's Date header. */
export function noteServerClock(res) {
  const date = Date.parse(res.headers.get('Date') || '');
  if (Number.isNaN(date)) return;
  const offset = date + 500 - Date.now();
  clockOffset = Math.abs(offset) > 2000 ? offset : 0;
}

/** Now, on the server's clock. */
export function now() {
  return Date.now() + clockOffset;
}

function pad(n) {
  return n < 10 ? '0' + n : String(n);
}

/** 14:03:09 today, else 2026-11-30 14:03:09. */
export function clockTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const t = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  if (d.toDateString() === new Date(now()).toDateString()) return t;
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + t;
}

/** 42s, 3m 07s, 5h 02m, 3d 4h. */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + pad(s % 60) + 's';
  const hr = Math.floor(m / 60);
  if (hr < 48) return hr + 'h ' + pad(m % 60) + 'm';
  return Math.floor(hr / 24) + 'd ' + (hr % 24) + 'h';
}

function ageText(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  return duration(now() - t) + ' ago';
}

/** An element whose text says how long ago `iso` was; `tickAges` keeps it current. */
export function age(iso, cls) {
  return h('time', { class: 'js-age ' + (cls || ''), datetime: iso, title: String(iso), data: { since: iso } }, ageText(iso));
}

export function tickAges() {
  for (const el of document.querySelectorAll('.js-age')) setText(el, ageText(el.dataset.since));
}
