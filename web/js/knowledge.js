/**
 * The knowledge panel: the topics, one topic open at a time (kept current as
 * the branch moves, closed with a notice when someone deletes it), and the
 * editor that writes and deletes topics as the acting agent.
 */
import { $, formMessage, h, region, setText } from './dom.js';
import { api, request } from './api.js';
import { clockTime, now } from './time.js';
import { markdown } from './markdown.js';
import { refresh } from './live.js';
import { requireAgent, writeError } from './session.js';

let topics = [];
let openName = null;
let openContent = null;

/** Called with every status: the list, and the open topic kept current. */
export function renderKnowledge(status) {
  topics = status.knowledge_topics || [];
  showTopics();
  setText('topics-note', topics.length ? String(topics.length) : '');
  if (!openName) return;
  if (!topics.includes(openName)) {
    topicGone(openName);
    return;
  }
  const topic = openName;
  request('GET', api('knowledge', topic)).then(
    (data) => {
      if (openName === topic) showContent(data.content);
    },
    (err) => {
      if (openName === topic && err.status === 404) topicGone(topic);
    },
  );
}

function showTopics() {
  region('topics', { topics, open: openName }, ({ topics: list, open }) => {
    if (!list.length) return [h('li', { class: 'muted small', text: 'No topics yet.' })];
    return list.map((topic) =>
      h(
        'li',
        null,
        h('button', {
          type: 'button',
          class: 'topic' + (topic === open ? ' active' : ''),
          'aria-pressed': String(topic === open),
          data: { topic, key: 'topic:' + topic },
          text: topic,
          on: { click: () => openTopic(topic) },
        }),
      ),
    );
  });
}

function openTopic(topic) {
  openName = topic;
  $('topic-notice').hidden = true;
  setText('topic-title', topic);
  $('topic-view').hidden = false;
  showTopics();
  return request('GET', api('knowledge', topic)).then(
    (data) => {
      if (openName === topic) showContent(data.content);
    },
    (err) => {
      if (openName !== topic) return;
      if (err.status === 404) topicGone(topic);
      else showContent(null, 'Could not read this topic: ' + err.message);
    },
  );
}

function showContent(content, error) {
  const box = $('topic-content');
  if (error) {
    openContent = null;
    box.replaceChildren(h('p', { class: 'form-message error', text: error }));
    return;
  }
  if (content === openContent && box.childNodes.length) return;
  openContent = content;
  box.replaceChildren(...markdown(content));
}

function closeTopic() {
  openName = null;
  openContent = null;
  $('topic-view').hidden = true;
  $('topic-content').replaceChildren();
  showTopics();
}

function topicGone(topic) {
  closeTopic();
  const n = $('topic-notice');
  n.textContent = 'Topic "' + topic + '" was deleted.';
  n.hidden = false;
}

async function onSave(ev) {
  ev.preventDefault();
  const topic = $('kb-topic').value.trim();
  const content = $('kb-content').value;
  if (!topic) {
    formMessage('kb-message', 'Give the topic a name.', 'error');
    $('kb-topic').focus();
    return;
  }
  const agent = requireAgent('kb-message');
  if (!agent) return;
  const button = $('kb-save');
  button.disabled = true;
  formMessage('kb-message', 'Saving…', 'busy');
  try {
    await request('PUT', api('knowledge', topic), { content, agent });
    formMessage('kb-message', 'Saved "' + topic + '" as ' + agent + ' at ' + clockTime(new Date(now()).toISOString()) + '.', 'ok');
    openTopic(topic);
    refresh();
  } catch (err) {
    formMessage('kb-message', 'Not saved: ' + writeError(err), 'error');
  } finally {
    button.disabled = false;
  }
}

async function onDelete() {
  const topic = openName;
  if (!topic) return;
  const notice = $('topic-notice');
  const agent = requireAgent((text) => {
    notice.textContent = text;
    notice.hidden = false;
  });
  if (!agent) return;
  if (!window.confirm('Delete the knowledge topic "' + topic + '" as ' + agent + '? This commits a deletion to the branch.')) return;
  const button = $('topic-delete');
  button.disabled = true;
  try {
    await request('DELETE', api('knowledge', topic), { agent });
    if (openName === topic) topicGone(topic);
    refresh();
  } catch (err) {
    if (err.status === 404) {
      topicGone(topic);
      return;
    }
    notice.textContent = 'Could not delete "' + topic + '": ' + writeError(err);
    notice.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function onEdit() {
  if (!openName || openContent === null) return;
  const area = $('kb-content');
  const name = $('kb-topic');
  const dirty = area.value && area.value !== openContent && name.value !== openName;
  if (dirty && !window.confirm('Replace what you are writing with "' + openName + '"?')) return;
  name.value = openName;
  area.value = openContent;
  formMessage('kb-message', 'Editing "' + openName + '".');
  area.focus();
}

export function initKnowledge() {
  $('kb-form').addEventListener('submit', onSave);
  $('topic-close').addEventListener('click', closeTopic);
  $('topic-delete').addEventListener('click', onDelete);
  $('topic-edit').addEventListener('click', onEdit);
}
