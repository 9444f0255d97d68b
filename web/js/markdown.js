/**
 * A small, safe subset of markdown rendered as DOM (never as HTML text):
 * headings, paragraphs, lists, quotes, fenced code, `code`, **bold** and
 * http(s) links.
 */
import { h } from './dom.js';

export function markdown(src) {
  const lines = String(src).replace(/\r\n?/g, '\n').split('\n');
  const out = [];
  let para = [];
  let list = null;
  const flushPara = () => {
    if (para.length) out.push(h('p', null, inline(para.join(' '))));
    para = [];
  };
  const flushList = () => {
    if (list) out.push(list);
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if (/^\s*```/.test(line)) {
      flushPara();
      flushList();
      const code = [];
      i++;
      while (i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i++]);
      out.push(h('pre', null, h('code', { text: code.join('\n') })));
    } else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
      flushPara();
      flushList();
      out.push(h('h' + Math.min(6, m[1].length + 3), { class: 'md-h' }, inline(m[2])));
    } else if ((m = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/.exec(line))) {
      flushPara();
      const tag = m[1] ? 'ol' : 'ul';
      if (!list || list.tagName.toLowerCase() !== tag) {
        flushList();
        list = h(tag);
      }
      list.appendChild(h('li', null, inline(m[2])));
    } else if ((m = /^>\s?(.*)$/.exec(line))) {
      flushPara();
      flushList();
      out.push(h('blockquote', null, inline(m[1])));
    } else if (!line.trim()) {
      flushPara();
      flushList();
    } else {
      flushList();
      para.push(line.trim());
    }
  }
  flushPara();
  flushList();
  if (!out.length) out.push(h('p', { class: 'muted small', text: '(empty)' }));
  return out;
}

function inline(text) {
  const parts = [];
  const re = /(`[^`]+`)|(\*\*[^*]+\*\*)|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    if (m[1]) parts.push(h('code', { text: m[1].slice(1, -1) }));
    else if (m[2]) parts.push(h('strong', { text: m[2].slice(2, -2) }));
    else parts.push(h('a', { href: m[4], rel: 'noopener noreferrer', target: '_blank', text: m[3] }));
    last = re.lastIndex;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
