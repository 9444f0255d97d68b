/**
 * Building the page from data, as text only: elements are created with
 * createElement and filled with text nodes; no HTML is ever parsed from data
 * (the page's CSP forbids inline script, and nothing here needs markup).
 *
 * Display regions are rebuilt whole when what they show changes; `region`
 * skips unchanged data (no flicker, selections kept) and puts the keyboard
 * focus back on the same control (by its `data-key`) after a rebuild, so a
 * live update never throws a keyboard user out of the board.
 */

/** The element with this id. */
export function $(id) {
  return document.getElementById(id);
}

/**
 * h('div', {class: 'x', title: 't', data: {k: 'v'}, on: {click: fn}}, child, 'text', ...)
 * Strings and numbers become text nodes; null, undefined and false children are skipped.
 */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const key of Object.keys(props)) {
      const v = props[key];
      if (v === undefined || v === null || v === false) continue;
      if (key === 'class') node.className = v;
      else if (key === 'text') node.textContent = String(v);
      else if (key === 'data') for (const d of Object.keys(v)) node.dataset[d] = String(v[d]);
      else if (key === 'on') for (const ev of Object.keys(v)) node.addEventListener(ev, v[ev]);
      else node.setAttribute(key, String(v));
    }
  }
  append(node, children);
  return node;
}

export function append(node, child) {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(node, c);
    return;
  }
  node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
}

/** An empty state: what is missing, and the command that adds it. */
export function empty(text, hint) {
  return h('div', { class: 'empty' }, h('p', { text }), hint ? h('code', { text: hint }) : null);
}

/** Sets an element's text (by id or element) when it differs. */
export function setText(target, text) {
  const node = typeof target === 'string' ? $(target) : target;
  if (node.textContent !== text) node.textContent = text;
}

const rendered = new Map();

/**
 * Replaces the children of element `id` with build(data), unless data is the
 * same as last time. `key` (optional) is what decides "the same"; it defaults
 * to the data itself.
 */
export function region(id, data, build, key = data) {
  const text = JSON.stringify(key);
  if (rendered.get(id) === text) return;
  rendered.set(id, text);
  const target = $(id);
  const active = document.activeElement;
  const focus = active && active !== document.body && target.contains(active) ? { key: active.dataset.key, fallback: active.dataset.fallback } : null;
  const nodes = build(data);
  target.replaceChildren(...(Array.isArray(nodes) ? nodes : [nodes]));
  if (focus) refocus(target, focus);
}

/** Forgets what a region shows, so the next `region` call rebuilds it. */
export function invalidate(id) {
  rendered.delete(id);
}

function byKey(root, key) {
  if (!key) return null;
  for (const el of root.querySelectorAll('[data-key]')) if (el.dataset.key === key) return el;
  return null;
}

/** The same control again, or else the first control of the element named by `fallback`. */
function refocus(root, { key, fallback }) {
  const same = byKey(root, key);
  if (same) {
    same.focus();
    return;
  }
  const near = byKey(root, fallback);
  if (!near) return;
  const control = near.querySelector('button:not([disabled]), input:not([disabled]), [tabindex]');
  (control || near).focus();
}

/** Says something to screen readers (the page's one polite live region). */
export function announce(text) {
  const live = $('announce');
  if (!live) return;
  live.textContent = '';
  // A fresh text node after clearing makes readers speak a repeated message too.
  setTimeout(() => (live.textContent = text), 30);
}

/** Sets a form's message line: kind is '', 'ok', 'error' or 'busy'. */
export function formMessage(target, text, kind = '') {
  const m = typeof target === 'string' ? $(target) : target;
  m.textContent = text;
  m.className = 'form-message' + (kind ? ' ' + kind : '');
}

/** An integer field: undefined when empty (the server's default), else the text as typed (the server checks it). */
export function intField(id) {
  const v = $(id).value.trim();
  if (!v) return undefined;
  return /^-?\d+$/.test(v) ? Number(v) : v;
}
