/**
 * The board: summary figures, then the workstreams (most urgent first) with
 * their progress and tasks. Each task shows its status, dependencies, needs,
 * assignee and result, and, for those allowed to write, the actions its
 * status allows (Claim; Done, Fail, Release; Release of a failed task; Edit
 * of any task not done; Delete of a pending one).
 * The buttons only carry data-action; work.js acts on them.
 *
 * A task's last action message (an error in words) stays beside its
 * buttons until the next action on that task, across live updates.
 */
import { $, empty, h, region, setText } from './dom.js';

export const STATUS_LABEL = { pending: 'pending', in_progress: 'in progress', done: 'done', failed: 'failed' };

const collapsed = Object.create(null);
const showDone = Object.create(null);
/** 'ws/id' -> { text, kind } */
const notes = new Map();
/** 'ws/id' -> the action under way */
const busy = new Map();
let last = null;

export const taskKey = (ws, id) => ws + '/' + id;

/** Sets (or with null clears) the message shown under a task's actions. */
export function setTaskNote(key, note) {
  if (note) notes.set(key, note);
  else notes.delete(key);
  if (last) renderBoard(last);
}

/** Marks a task's action as under way (its buttons wait), or done with (null). */
export function setTaskBusy(key, action) {
  if (action) busy.set(key, action);
  else busy.delete(key);
  if (last) renderBoard(last);
}

/** Everything from /api/status that belongs to the board. */
export function renderBoard(status) {
  last = status;
  const ws = sortedWorkstreams(status);
  const short = status.commit ? status.commit.slice(0, 7) : 'no commit';
  setText('commit', short);
  $('commit').title = status.commit ? 'Showing commit ' + status.commit : 'The branch has no commits yet';
  setText('branch', status.branch || '—');
  document.title = 'Orchestrator · ' + (status.branch || 'board');
  region('stats', statsOf(ws, status.agents || [], status.active_locks || []), renderStats);
  const view = {
    ws,
    collapsed: Object.keys(collapsed),
    showDone: Object.keys(showDone),
    notes: [...notes],
    busy: [...busy],
  };
  region('workstreams', view, renderWorkstreams);
  setText('ws-note', ws.length ? ws.length + ' · by priority' : '');
}

export function sortedWorkstreams(status) {
  return (status.workstreams || []).slice().sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function statsOf(ws, agents, locks) {
  const s = { workstreams: ws.length, pending: 0, in_progress: 0, done: 0, failed: 0, tasks: 0, agents: agents.length, stale: 0, locks: locks.length };
  for (const w of ws) {
    s.pending += w.pending || 0;
    s.in_progress += w.in_progress || 0;
    s.done += w.done || 0;
    s.failed += w.failed || 0;
    s.tasks += w.task_count || 0;
  }
  for (const a of agents) if (a.stale) s.stale++;
  return s;
}

function renderStats(s) {
  const stat = (key, label, value, sub) =>
    h('div', { class: 'stat stat-' + key + (value === 0 ? ' zero' : ''), data: { stat: key } }, h('span', { class: 'stat-value', text: value }), h('span', { class: 'stat-label', text: label }), sub ? h('span', { class: 'stat-sub', text: sub }) : null);
  return [
    stat('workstreams', 'Workstreams', s.workstreams, s.tasks + (s.tasks === 1 ? ' task' : ' tasks')),
    stat('pending', 'Pending', s.pending),
    stat('in_progress', 'In progress', s.in_progress),
    stat('done', 'Done', s.done, s.tasks ? Math.round((s.done / s.tasks) * 100) + '%' : null),
    stat('failed', 'Failed', s.failed),
    stat('agents', 'Agents', s.agents, s.stale ? s.stale + ' stale' : null),
    stat('locks', 'Active locks', s.locks),
  ];
}

function renderWorkstreams(view) {
  if (!view.ws.length) return empty('No workstreams yet.', 'orchestrator ws create <name> [description] [priority]');
  const byId = Object.create(null);
  for (const w of view.ws) for (const t of w.tasks || []) byId[t.id] = t;
  return view.ws.map((w) => renderWorkstream(w, byId));
}

function toggle(set, key) {
  if (set[key]) delete set[key];
  else set[key] = true;
  if (last) renderBoard(last);
}

function renderWorkstream(w, byId) {
  const total = w.task_count || 0;
  const isCollapsed = !!collapsed[w.name];
  const tasks = w.tasks || [];
  const doneShown = !!showDone[w.name];
  const open = tasks.filter((t) => t.status !== 'done');
  const done = tasks.filter((t) => t.status === 'done');
  // Long boards fold finished work away; short ones show everything.
  const foldDone = done.length > 3 && open.length > 0;
  const shown = foldDone && !doneShown ? open : tasks;

  const bar = h('div', { class: 'progress', role: 'img', 'aria-label': w.done + ' of ' + total + ' tasks done' });
  for (const k of ['done', 'in_progress', 'failed', 'pending']) {
    if (!w[k]) continue;
    const seg = h('span', { class: 'seg seg-' + k, title: w[k] + ' ' + STATUS_LABEL[k] });
    seg.style.flexGrow = String(w[k]);
    bar.appendChild(seg);
  }

  const head = h(
    'button',
    { type: 'button', class: 'ws-head', 'aria-expanded': String(!isCollapsed), data: { key: 'ws:' + w.name }, on: { click: () => toggle(collapsed, w.name) } },
    h('span', { class: 'chev', 'aria-hidden': 'true' }),
    h('span', { class: 'ws-name', text: w.name }),
    h('span', { class: 'prio', title: 'Priority (lower is more urgent)', text: 'P' + w.priority }),
    w.status && w.status !== 'active' ? h('span', { class: 'chip chip-muted', text: w.status }) : null,
    h('span', { class: 'ws-count', text: total ? w.done + '/' + total + ' done' : 'no tasks' }),
  );

  let body = null;
  if (!isCollapsed) {
    body = h(
      'div',
      { class: 'ws-body' },
      tasks.length ? h('ul', { class: 'tasks' }, shown.map((t) => renderTask(w.name, t, byId))) : h('p', { class: 'muted small', text: 'No tasks in this workstream.' }),
      h(
        'div',
        { class: 'ws-foot' },
        foldDone
          ? h('button', {
              type: 'button',
              class: 'btn-link small',
              data: { key: 'fold:' + w.name },
              text: doneShown ? 'Hide ' + done.length + ' done' : 'Show ' + done.length + ' done',
              on: { click: () => toggle(showDone, w.name) },
            })
          : null,
        h('button', { type: 'button', class: 'btn btn-small write-only ws-add', data: { action: 'add-task', ws: w.name, key: 'add:' + w.name }, 'aria-label': 'Add a task to ' + w.name, text: '+ Add task' }),
      ),
    );
  }

  return h(
    'article',
    { class: 'ws' + (isCollapsed ? ' collapsed' : ''), data: { workstream: w.name } },
    head,
    w.description ? h('p', { class: 'ws-desc', text: w.description }) : null,
    h('div', { class: 'ws-progress' }, bar, h('span', { class: 'ws-breakdown' }, breakdown(w))),
    body,
  );
}

function breakdown(w) {
  return ['pending', 'in_progress', 'done', 'failed'].filter((k) => w[k]).map((k) => h('span', { class: 'bd bd-' + k }, h('i', { 'aria-hidden': 'true' }), w[k] + ' ' + STATUS_LABEL[k]));
}

/** Dependencies not done yet (a pending task with any cannot be claimed). */
function openDeps(t, byId) {
  return (Array.isArray(t.depends_on) ? t.depends_on : []).filter((id) => !byId[id] || byId[id].status !== 'done');
}

function renderTask(ws, t, byId) {
  const status = STATUS_LABEL[t.status] ? t.status : 'pending';
  const key = taskKey(ws, t.id);
  const meta = [
    h('span', { class: 'tid mono', title: 'Task id', text: t.id }),
    h('span', { class: 'prio prio-small', title: 'Priority (lower is more urgent)', text: 'P' + t.priority }),
    t.estimate ? h('span', { class: 'meta-item', title: 'Estimate: ' + t.estimate, text: '≈ ' + t.estimate }) : null,
  ];
  const deps = Array.isArray(t.depends_on) ? t.depends_on : [];
  const needs = Array.isArray(t.needs) ? t.needs : [];
  let links = null;
  if (deps.length || needs.length) {
    links = h(
      'div',
      { class: 'task-links' },
      deps.length
        ? h(
            'span',
            { class: 'link-group' },
            h('span', { class: 'link-label', text: 'after' }),
            deps.map((id) => {
              const dep = byId[id];
              const done = dep && dep.status === 'done';
              return h('span', { class: 'chip chip-dep mono' + (done ? ' dep-done' : ''), title: dep ? dep.title + ' (' + STATUS_LABEL[dep.status] + ')' : 'unknown task', text: (done ? '✓ ' : '') + id });
            }),
          )
        : null,
      needs.length ? h('span', { class: 'link-group' }, h('span', { class: 'link-label', text: 'needs' }), needs.map((r) => h('span', { class: 'chip chip-need mono', title: 'Resource', text: r }))) : null,
    );
  }
  const note = notes.get(key);
  return h(
    'li',
    { class: 'task task-' + status, tabindex: '-1', data: { task: t.id, key: 'task:' + key } },
    h('span', { class: 'badge badge-' + status, text: STATUS_LABEL[status] }),
    h(
      'div',
      { class: 'task-main' },
      h('div', { class: 'task-title', text: t.title }),
      t.description ? h('div', { class: 'task-desc', text: t.description }) : null,
      links,
      t.result ? h('div', { class: 'task-result' }, h('span', { class: 'link-label', text: status === 'failed' ? 'error' : 'result' }), h('span', { text: t.result })) : null,
      actions(ws, t, status, openDeps(t, byId)),
      note ? h('div', { class: 'task-note write-only' }, h('p', { class: 'form-message ' + note.kind, text: note.text }), h('button', { type: 'button', class: 'btn-link small', data: { action: 'dismiss', ws, id: t.id, key: 'dismiss:' + key, fallback: 'task:' + key }, text: 'Dismiss' })) : null,
    ),
    h(
      'div',
      { class: 'task-side' },
      t.assigned_to ? h('span', { class: 'assignee', title: 'Assigned to' }, h('i', { 'aria-hidden': 'true' }), t.assigned_to) : h('span', { class: 'assignee unassigned', text: 'unassigned' }),
      h('span', { class: 'task-meta' }, meta),
    ),
  );
}

const ACTION_LABEL = { claim: 'Claim', complete: 'Done', fail: 'Fail', release: 'Release', edit: 'Edit', delete: 'Delete' };

/** The buttons a task's status allows; a pending task waiting for others says so instead of offering Claim. */
function actions(ws, t, status, waiting) {
  const key = taskKey(ws, t.id);
  const running = busy.get(key);
  let list = [];
  if (status === 'pending' && !waiting.length) list = ['claim'];
  else if (status === 'in_progress') list = ['complete', 'fail', 'release'];
  else if (status === 'failed') list = ['release'];
  // Any task not done can be edited; a pending one deleted (the server refuses one others depend on).
  if (status !== 'done') list.push('edit');
  if (status === 'pending') list.push('delete');
  const buttons = list.map((action) =>
    h('button', {
      type: 'button',
      class: 'btn btn-small act act-' + action + (action === 'claim' || action === 'complete' ? ' btn-primary' : action === 'fail' ? ' btn-danger' : action === 'edit' || action === 'delete' ? ' btn-ghost' : ''),
      data: { action, ws, id: t.id, key: action + ':' + key, fallback: 'task:' + key },
      'aria-label': ACTION_LABEL[action] + ': ' + t.title,
      'aria-disabled': running ? 'true' : null,
      text: running === action ? ACTION_LABEL[action] + '…' : ACTION_LABEL[action],
    }),
  );
  const wait = status === 'pending' && waiting.length ? h('span', { class: 'waits muted small', text: 'waits for ' + waiting.join(', ') }) : null;
  if (!buttons.length && !wait) return null;
  return h('div', { class: 'task-actions write-only' }, buttons, wait);
}
