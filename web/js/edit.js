/**
 * Editing a task from the page (title, description, priority, estimate,
 * dependencies and resources, in a dialog; only what changed is sent) and deleting a pending one after
 * confirming, as the acting agent. A refusal is said in the dialog, or
 * beside the task for a deletion.
 */
import { $, announce, formMessage, intField } from './dom.js';
import { api, ApiError, request } from './api.js';
import { refresh } from './live.js';
import { canWrite, requireAgent, writeError } from './session.js';
import { setTaskBusy, setTaskNote, taskKey } from './board.js';

let editFor = null;

export function openEdit(ws, id, t, opener) {
  if (!t) return;
  const was = { title: t.title, description: t.description || '', priority: t.priority, estimate: t.estimate || '', depends_on: t.depends_on || [], needs: t.needs || [] };
  editFor = { ws, id, opener, was };
  $('te-task').textContent = ws + '/' + id + (t.assigned_to ? ' · held by ' + t.assigned_to : '');
  $('te-title').value = t.title;
  $('te-desc').value = t.description || '';
  $('te-priority').value = t.priority === undefined || t.priority === null ? '' : String(t.priority);
  $('te-estimate').value = t.estimate || '';
  $('te-deps').value = was.depends_on.join(', ');
  $('te-needs').value = was.needs.join('\n');
  // Dependencies and resources change only while the task is pending.
  const pending = t.status === 'pending';
  $('te-deps').disabled = $('te-needs').disabled = !pending;
  $('te-deps-hint').textContent = pending ? 'Task ids, separated by commas or spaces.' : 'Only a pending task\'s dependencies and resources change.';
  $('te-needs-hint').hidden = !pending;
  for (const el of $('te-form').querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  formMessage('te-message', '');
  $('edit-dialog').showModal();
  $('te-title').focus();
}

/** A field named by a 400 answer -> the dialog's input to mark. */
const EDIT_FIELDS = { title: 'te-title', description: 'te-desc', priority: 'te-priority', estimate: 'te-estimate', after: 'te-deps', needs: 'te-needs' };

/** Task ids never hold commas or spaces; a resource may hold either, so resources go one per line. */
const idList = (text) => text.split(/[\s,]+/).filter(Boolean);
const lineList = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);
const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function onEditSubmit(ev) {
  ev.preventDefault();
  if (!editFor) return;
  const { ws, id, was } = editFor;
  const title = $('te-title').value.trim();
  if (!title) {
    formMessage('te-message', 'Give the task a title.', 'error');
    $('te-title').setAttribute('aria-invalid', 'true');
    $('te-title').focus();
    return;
  }
  // Only what changed is sent: the commit records the edit as made.
  const body = {};
  if (title !== was.title) body.title = title;
  const description = $('te-desc').value.trim();
  if (description !== was.description) body.description = description;
  const priority = intField('te-priority');
  if (priority !== undefined && priority !== was.priority) body.priority = priority;
  const estimate = $('te-estimate').value.trim();
  if (estimate !== was.estimate) body.estimate = estimate;
  if (!$('te-deps').disabled) {
    const after = idList($('te-deps').value);
    if (!sameList(after, was.depends_on)) body.after = after;
    const needs = lineList($('te-needs').value);
    if (!sameList(needs, was.needs)) body.needs = needs;
  }
  if (!Object.keys(body).length) {
    formMessage('te-message', 'Nothing changed.', 'error');
    return;
  }
  const agent = requireAgent('te-message');
  if (!agent) {
    editFor.focusTo = 'act-as';
    $('edit-dialog').close();
    return;
  }
  const button = $('te-submit');
  button.disabled = true;
  formMessage('te-message', 'Saving…', 'busy');
  try {
    await request('POST', api('workstreams', ws, 'tasks', id, 'edit'), { ...body, agent });
    announce('Edited "' + title + '" as ' + agent);
    $('edit-dialog').close();
  } catch (err) {
    formMessage('te-message', 'Not saved: ' + writeError(err), 'error');
    // A field may be named with its place in a list (after.0); a dependency not found names the task.
    const field = err instanceof ApiError ? (typeof err.data.field === 'string' ? err.data.field.split('.')[0] : body.after && body.after.includes(err.data.task_id) ? 'after' : null) : null;
    const input = field && EDIT_FIELDS[field];
    if (input) {
      $(input).setAttribute('aria-invalid', 'true');
      $(input).focus();
    }
    if (!canWrite()) $('edit-dialog').close();
  } finally {
    button.disabled = false;
    refresh();
  }
}

export async function deleteTask(ws, id, t) {
  const key = taskKey(ws, id);
  const say = (text) => setTaskNote(key, { text, kind: 'error' });
  const agent = requireAgent(say);
  if (!agent) return;
  const name = t ? '"' + t.title + '"' : id;
  if (!window.confirm('Delete the task ' + name + ' (' + ws + '/' + id + ') as ' + agent + '? This commits a deletion to the branch.')) return;
  setTaskNote(key, null);
  setTaskBusy(key, 'delete');
  try {
    await request('DELETE', api('workstreams', ws, 'tasks', id), { agent });
    announce('Deleted ' + name + ' as ' + agent);
  } catch (err) {
    const text = writeError(err);
    say('Not deleted: ' + text);
    announce('Not deleted: ' + text);
  } finally {
    setTaskBusy(key, null);
    refresh();
  }
}

export function initEdit() {
  $('te-form').addEventListener('submit', onEditSubmit);
  $('te-form').addEventListener('input', (ev) => {
    if (ev.target.removeAttribute) ev.target.removeAttribute('aria-invalid');
    formMessage('te-message', '');
  });
  $('te-cancel').addEventListener('click', () => $('edit-dialog').close());
  $('edit-dialog').addEventListener('close', () => {
    if (!editFor) return;
    const to = editFor.focusTo || (!canWrite() && !$('token-form').hidden ? 'token-input' : null);
    const opener = editFor.opener;
    editFor = null;
    if (to) $(to).focus();
    else if (opener.isConnected) opener.focus();
  });
}
