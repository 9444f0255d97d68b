/**
 * Managing work from the page, as the acting agent: create a workstream, add
 * a task (workstream, title, description, priority, estimate, needs, and
 * dependencies chosen from the tasks on the board), claim, complete,
 * fail or release a task (editing and deleting one: edit.js).
 *
 * The forms and the Done/Fail dialog are in index.html and never rebuilt:
 * live updates refresh only their choices (workstreams, tasks to depend
 * on), keeping what is selected and typed. A refusal is shown in words
 * beside the control that asked (a 409 names the holder; a 400 marks the
 * field it names).
 */
import { $, announce, formMessage, h, intField, region } from './dom.js';
import { deleteTask, initEdit, openEdit } from './edit.js';
import { api, ApiError, request } from './api.js';
import { refresh } from './live.js';
import { canWrite, requireAgent, writeError } from './session.js';
import { setTaskBusy, setTaskNote, sortedWorkstreams, STATUS_LABEL, taskKey } from './board.js';

let status = null;
const chosenDeps = new Set();

/** A field named by a 400 answer -> the input to mark. */
const FIELDS = {
  'ws-form': { name: 'ws-name', workstream: 'ws-name', description: 'ws-desc', priority: 'ws-priority', agent: 'act-as', by: 'act-as' },
  'task-form': {
    workstream: 'task-ws',
    title: 'task-title',
    description: 'task-desc',
    priority: 'task-priority',
    estimate: 'task-estimate',
    needs: 'task-needs',
    resource: 'task-needs',
    depends_on: 'task-deps-filter',
    dependency: 'task-deps-filter',
    after: 'task-deps-filter',
    agent: 'act-as',
    by: 'act-as',
  },
};

/** Called with every status: the forms' choices follow the board. */
export function updateWork(s) {
  status = s;
  syncWorkstreamChoices();
  renderDeps();
}

// --- the two forms ---------------------------------------------------------------

function toggleForm(formId, buttonId, open) {
  const form = $(formId);
  const show = open === undefined ? form.hidden : open;
  form.hidden = !show;
  $(buttonId).setAttribute('aria-expanded', String(show));
  return show;
}

function closeOnEscape(formId, buttonId) {
  $(formId).addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    ev.preventDefault();
    toggleForm(formId, buttonId, false);
    $(buttonId).focus();
  });
}

function clearInvalid(form) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** Shows a refused write beside the form's button and marks the field the server named. */
function refused(formId, messageId, err) {
  formMessage(messageId, 'Not saved: ' + writeError(err), 'error');
  if (!(err instanceof ApiError)) return;
  const field = err.data.field;
  let input = field && FIELDS[formId][field];
  if (!input && formId === 'task-form' && err.status === 404 && err.data.task_id) input = 'task-deps-filter';
  if (!input && formId === 'task-form' && err.status === 404 && err.data.workstream) input = 'task-ws';
  if (input) {
    $(input).setAttribute('aria-invalid', 'true');
    $(input).focus();
  }
}

async function onCreateWorkstream(ev) {
  ev.preventDefault();
  const form = $('ws-form');
  clearInvalid(form);
  const name = $('ws-name').value.trim();
  if (!name) {
    formMessage('ws-message', 'Give the workstream a name.', 'error');
    $('ws-name').setAttribute('aria-invalid', 'true');
    $('ws-name').focus();
    return;
  }
  const agent = requireAgent('ws-message');
  if (!agent) return;
  const button = $('ws-create');
  button.disabled = true;
  formMessage('ws-message', 'Creating…', 'busy');
  try {
    const body = { name, description: $('ws-desc').value.trim(), agent };
    const priority = intField('ws-priority');
    if (priority !== undefined) body.priority = priority;
    await request('POST', api('workstreams'), body);
    formMessage('ws-message', 'Created workstream "' + name + '" as ' + agent + '.', 'ok');
    announce('Created workstream ' + name);
    $('ws-name').value = '';
    $('ws-desc').value = '';
    // The next task most likely goes there.
    pendingWorkstream = name;
    await refresh();
  } catch (err) {
    refused('ws-form', 'ws-message', err);
  } finally {
    button.disabled = false;
  }
}

let pendingWorkstream = null;

function syncWorkstreamChoices() {
  const select = $('task-ws');
  const names = sortedWorkstreams(status).map((w) => w.name);
  const want = pendingWorkstream && names.includes(pendingWorkstream) ? pendingWorkstream : select.value;
  if (pendingWorkstream && names.includes(pendingWorkstream)) pendingWorkstream = null;
  const current = [...select.options].map((o) => o.value);
  if (JSON.stringify(current) !== JSON.stringify(names.length ? names : [''])) {
    if (names.length) select.replaceChildren(...names.map((n) => h('option', { value: n, text: n })));
    else select.replaceChildren(h('option', { value: '', text: 'no workstreams yet: create one first' }));
  }
  if (want && names.includes(want)) select.value = want;
}

/** Opens the task form, for a workstream when one is given. */
function openTaskForm(ws) {
  toggleForm('task-form', 'task-new', true);
  if (ws) {
    pendingWorkstream = ws;
    if (status) syncWorkstreamChoices();
  }
  $('task-form').scrollIntoView({ block: 'nearest' });
  $('task-title').focus();
}

function renderDeps() {
  if (!status) return;
  const filter = $('task-deps-filter').value.trim().toLowerCase();
  const groups = sortedWorkstreams(status).map((w) => ({ ws: w.name, tasks: (w.tasks || []).map((t) => [t.id, t.title, t.status]) }));
  const known = new Set();
  for (const g of groups) for (const t of g.tasks) known.add(t[0]);
  for (const id of [...chosenDeps]) if (!known.has(id)) chosenDeps.delete(id);
  const box = $('task-deps');
  const scroll = box.scrollTop;
  region('task-deps', { groups, filter, chosen: [...chosenDeps] }, buildDeps);
  box.scrollTop = scroll;
  const n = chosenDeps.size;
  $('task-deps-note').textContent = n ? n + ' chosen: ' + [...chosenDeps].join(', ') : 'none chosen';
}

function buildDeps({ groups, filter, chosen }) {
  const picked = new Set(chosen);
  const out = [];
  for (const g of groups) {
    const rows = g.tasks.filter(([id, title]) => picked.has(id) || !filter || id.toLowerCase().includes(filter) || title.toLowerCase().includes(filter) || g.ws.toLowerCase().includes(filter));
    if (!rows.length) continue;
    out.push(
      h(
        'fieldset',
        { class: 'dep-group' },
        h('legend', { text: g.ws }),
        rows.map(([id, title, st]) =>
          h(
            'label',
            { class: 'dep' + (st === 'done' ? ' dep-is-done' : '') },
            h('input', { type: 'checkbox', value: id, checked: picked.has(id) ? '' : null, data: { key: 'dep:' + id } }),
            h('span', { class: 'mono tid', text: id }),
            h('span', { class: 'dep-title', text: title }),
            h('span', { class: 'muted small', text: STATUS_LABEL[st] || st }),
          ),
        ),
      ),
    );
  }
  if (!out.length) return [h('p', { class: 'muted small', text: groups.some((g) => g.tasks.length) ? 'No task matches.' : 'No tasks on the board yet.' })];
  return out;
}

async function onAddTask(ev) {
  ev.preventDefault();
  const form = $('task-form');
  clearInvalid(form);
  const ws = $('task-ws').value;
  const title = $('task-title').value.trim();
  if (!ws) {
    formMessage('task-message', 'Create a workstream first.', 'error');
    return;
  }
  if (!title) {
    formMessage('task-message', 'Give the task a title.', 'error');
    $('task-title').setAttribute('aria-invalid', 'true');
    $('task-title').focus();
    return;
  }
  const agent = requireAgent('task-message');
  if (!agent) return;
  const body = { title, description: $('task-desc').value.trim(), agent };
  const priority = intField('task-priority');
  if (priority !== undefined) body.priority = priority;
  const estimate = $('task-estimate').value.trim();
  if (estimate) body.estimate = estimate;
  const needs = $('task-needs').value.split(',').map((s) => s.trim()).filter(Boolean);
  if (needs.length) body.needs = needs;
  if (chosenDeps.size) body.after = [...chosenDeps];
  const button = $('task-add');
  button.disabled = true;
  formMessage('task-message', 'Adding…', 'busy');
  try {
    const task = await request('POST', api('workstreams', ws, 'tasks'), body);
    formMessage('task-message', 'Added "' + title + '" (' + task.id + ') to ' + ws + ' as ' + agent + '.', 'ok');
    announce('Added task ' + title);
    for (const id of ['task-title', 'task-desc', 'task-estimate', 'task-needs', 'task-deps-filter']) $(id).value = '';
    chosenDeps.clear();
    renderDeps();
    $('task-title').focus();
    await refresh();
  } catch (err) {
    refused('task-form', 'task-message', err);
  } finally {
    button.disabled = false;
  }
}

// --- task actions ----------------------------------------------------------------

function findTask(ws, id) {
  const w = status && (status.workstreams || []).find((x) => x.name === ws);
  return (w && (w.tasks || []).find((t) => t.id === id)) || null;
}

const PAST = { claim: 'Claimed', complete: 'Completed', fail: 'Failed', release: 'Released' };

/**
 * POSTs one task action as the acting agent. Resolves with null when it was
 * done, else with the refusal in words, which also stays beside the task.
 */
async function act(action, ws, id, extra) {
  const key = taskKey(ws, id);
  const say = (text) => setTaskNote(key, { text, kind: 'error' });
  const agent = requireAgent(say);
  if (!agent) return 'choose who you act as first.';
  setTaskNote(key, null);
  setTaskBusy(key, action);
  try {
    await request('POST', api('workstreams', ws, 'tasks', id, action), { agent, ...extra });
    const t = findTask(ws, id);
    announce(PAST[action] + ' ' + (t ? '"' + t.title + '"' : id) + ' as ' + agent);
    return null;
  } catch (err) {
    const text = writeError(err);
    say('Not ' + PAST[action].toLowerCase() + ': ' + text);
    announce('Not ' + PAST[action].toLowerCase() + ': ' + text);
    return text;
  } finally {
    setTaskBusy(key, null);
    refresh();
  }
}

async function onBoardClick(ev) {
  const button = ev.target.closest('button[data-action]');
  if (!button || !$('workstreams').contains(button)) return;
  const { action, ws, id } = button.dataset;
  if (button.getAttribute('aria-disabled') === 'true') return;
  if (action === 'add-task') return openTaskForm(ws);
  if (action === 'dismiss') return setTaskNote(taskKey(ws, id), null);
  if (action === 'complete' || action === 'fail') return openDialog(action, ws, id, button);
  if (action === 'edit') return openEdit(ws, id, findTask(ws, id), button);
  if (action === 'delete') return deleteTask(ws, id, findTask(ws, id));
  await act(action, ws, id, {});
}

// --- the Done / Fail dialog ------------------------------------------------------

let dialogFor = null;

function openDialog(action, ws, id, opener) {
  const t = findTask(ws, id);
  const same = dialogFor && dialogFor.action === action && dialogFor.ws === ws && dialogFor.id === id;
  dialogFor = { action, ws, id, opener };
  const done = action === 'complete';
  $('td-heading').textContent = done ? 'Mark the task done' : 'Mark the task failed';
  $('td-task').textContent = (t ? t.title : id) + ' · ' + ws + '/' + id + (t && t.assigned_to ? ' · held by ' + t.assigned_to : '');
  $('td-label').textContent = done ? 'Result (optional)' : 'Reason (required)';
  $('td-text').placeholder = done ? 'What was done, where to find it' : 'What went wrong';
  $('td-submit').textContent = done ? 'Mark done' : 'Mark failed';
  $('td-submit').className = 'btn ' + (done ? 'btn-primary' : 'btn-danger');
  if (!same) $('td-text').value = '';
  formMessage('td-message', '');
  $('task-dialog').showModal();
  $('td-text').focus();
}

function closeDialog() {
  const d = $('task-dialog');
  if (d.open) d.close();
}

async function onDialogSubmit(ev) {
  ev.preventDefault();
  if (!dialogFor) return;
  const { action, ws, id } = dialogFor;
  const text = $('td-text').value.trim();
  if (action === 'fail' && !text) {
    formMessage('td-message', 'Say why it failed.', 'error');
    $('td-text').focus();
    return;
  }
  const agent = requireAgent('td-message');
  if (!agent) {
    // The box is outside the dialog: close it so the focus can get there; the text stays.
    dialogFor.focusTo = 'act-as';
    closeDialog();
    return;
  }
  const button = $('td-submit');
  button.disabled = true;
  formMessage('td-message', 'Saving…', 'busy');
  const refusal = await act(action, ws, id, action === 'complete' ? { result: text || null } : { reason: text });
  button.disabled = false;
  if (refusal === null) {
    $('td-text').value = '';
    closeDialog();
  } else if (!canWrite()) {
    // The token was refused: the token bar asks for it, outside this dialog; the text is kept for later.
    closeDialog();
  } else {
    formMessage('td-message', 'Not saved: ' + refusal, 'error');
  }
}

export function initWork() {
  initEdit();
  $('ws-new').addEventListener('click', () => {
    if (toggleForm('ws-form', 'ws-new')) $('ws-name').focus();
  });
  $('task-new').addEventListener('click', () => {
    if ($('task-form').hidden) openTaskForm(null);
    else toggleForm('task-form', 'task-new', false);
  });
  $('ws-cancel').addEventListener('click', () => {
    toggleForm('ws-form', 'ws-new', false);
    $('ws-new').focus();
  });
  $('task-cancel').addEventListener('click', () => {
    toggleForm('task-form', 'task-new', false);
    $('task-new').focus();
  });
  closeOnEscape('ws-form', 'ws-new');
  closeOnEscape('task-form', 'task-new');
  $('ws-form').addEventListener('submit', onCreateWorkstream);
  $('task-form').addEventListener('submit', onAddTask);
  for (const form of [$('ws-form'), $('task-form')]) form.addEventListener('input', (ev) => ev.target.removeAttribute && ev.target.removeAttribute('aria-invalid'));
  $('task-deps-filter').addEventListener('input', renderDeps);
  $('task-deps').addEventListener('change', (ev) => {
    const box = ev.target;
    if (!(box instanceof HTMLInputElement) || box.type !== 'checkbox') return;
    if (box.checked) chosenDeps.add(box.value);
    else chosenDeps.delete(box.value);
    renderDeps();
  });
  $('workstreams').addEventListener('click', onBoardClick);
  $('td-form').addEventListener('submit', onDialogSubmit);
  $('td-cancel').addEventListener('click', closeDialog);
  $('task-dialog').addEventListener('close', () => {
    if (!dialogFor) return;
    const to = dialogFor.focusTo || (!canWrite() && !$('token-form').hidden ? 'token-input' : null);
    dialogFor.focusTo = null;
    if (to) {
      $(to).focus();
      return;
    }
    // Back to the button that opened it, or to its task when a live update rebuilt the row.
    if (dialogFor.opener.isConnected) dialogFor.opener.focus();
    else {
      for (const el of document.querySelectorAll('#workstreams [data-key]')) {
        if (el.dataset.key === 'task:' + taskKey(dialogFor.ws, dialogFor.id)) {
          (el.querySelector('button') || el).focus();
          break;
        }
      }
    }
  });
}
