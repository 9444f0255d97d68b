/*
 * The live dashboard. Plain DOM, no framework, no build step.
 *
 * Rules this file keeps:
 *  - Everything shown comes from the API and is put into the page with
 *    textContent / createElement only; no HTML is ever parsed from data.
 *  - Live updates re-render display regions only. Forms and inputs are in
 *    index.html and are never rebuilt, so nothing the user types is lost.
 *  - Updates arrive through Server-Sent Events (/api/stream); when the
 *    stream fails, the page polls every 5 s until it comes back.
 */
(function () {
  'use strict';

  var POLL_MS = 5000;
  /** Even while live, re-read now and then: stale marks and lock expiry change without commits. */
  var SAFETY_REFRESH_MS = 30000;
  var EVENTS_SHOWN = 30;
  var LOG_SHOWN = 20;
  var TOKEN_KEY = 'orchestrator.token';
  var STATUS_LABEL = { pending: 'pending', in_progress: 'in progress', done: 'done', failed: 'failed' };

  var state = {
    health: null,
    status: null,
    events: [],
    log: [],
    token: null,
    openTopic: null,
    openContent: null,
    collapsed: Object.create(null),
    showDone: Object.create(null),
    stream: null,
    streamOpen: false,
    pollTimer: null,
    reconnectTimer: null,
    fetchFailed: false,
    lastUpdate: 0,
    clockOffset: 0,
    rendered: Object.create(null),
    refreshing: null,
    refreshAgain: false,
  };

  // --- DOM helpers -----------------------------------------------------------------

  function $(id) {
    return document.getElementById(id);
  }

  /**
   * h('div', {class: 'x', title: 't', data: {k: 'v'}}, child, 'text', ...)
   * Strings become text nodes; null/undefined/false children are skipped.
   */
  function h(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      for (var key in props) {
        var v = props[key];
        if (v === undefined || v === null || v === false) continue;
        if (key === 'class') node.className = v;
        else if (key === 'text') node.textContent = String(v);
        else if (key === 'data') for (var d in v) node.dataset[d] = String(v[d]);
        else if (key === 'on') for (var ev in v) node.addEventListener(ev, v[ev]);
        else node.setAttribute(key, String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) {
      for (var i = 0; i < child.length; i++) append(node, child[i]);
      return;
    }
    node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }

  /** Replaces a region's children unless what it shows is unchanged (keeps selections, avoids flicker). */
  function region(id, data, build) {
    var key = JSON.stringify(data);
    if (state.rendered[id] === key) return;
    state.rendered[id] = key;
    var target = $(id);
    var nodes = build(data);
    target.replaceChildren.apply(target, Array.isArray(nodes) ? nodes : [nodes]);
  }

  function setText(id, text) {
    var node = $(id);
    if (node.textContent !== text) node.textContent = text;
  }

  // --- time ------------------------------------------------------------------------

  function now() {
    return Date.now() + state.clockOffset;
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  function clockTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var t = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    var today = new Date(now());
    if (d.toDateString() === today.toDateString()) return t;
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + t;
  }

  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + pad(s % 60) + 's';
    var hr = Math.floor(m / 60);
    if (hr < 48) return hr + 'h ' + pad(m % 60) + 'm';
    return Math.floor(hr / 24) + 'd ' + (hr % 24) + 'h';
  }

  function ageText(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) return 'unknown';
    return duration(now() - t) + ' ago';
  }

  /** An element whose text says how long ago `iso` was; the ticker keeps it current. */
  function age(iso, cls) {
    return h('time', { class: 'js-age ' + (cls || ''), datetime: iso, title: String(iso), data: { since: iso } }, ageText(iso));
  }

  function tick() {
    var ages = document.querySelectorAll('.js-age');
    for (var i = 0; i < ages.length; i++) {
      var text = ageText(ages[i].dataset.since);
      if (ages[i].textContent !== text) ages[i].textContent = text;
    }
    var lefts = document.querySelectorAll('.js-left');
    for (var j = 0; j < lefts.length; j++) updateLeft(lefts[j]);
    if (state.lastUpdate) {
      setText('updated', 'updated ' + clockTime(new Date(state.lastUpdate).toISOString()));
      $('updated').title = 'Last update ' + new Date(state.lastUpdate).toLocaleString();
    }
  }

  /** A lock row's countdown and remaining-time bar. */
  function updateLeft(row) {
    var until = Date.parse(row.dataset.until);
    var ttl = Number(row.dataset.ttl) || 0;
    var left = until - now();
    var label = row.querySelector('.lock-left');
    var fill = row.querySelector('.lock-fill');
    var text = left > 0 ? duration(left) + ' left' : 'expired';
    if (label && label.textContent !== text) label.textContent = text;
    row.classList.toggle('expired', left <= 0);
    row.classList.toggle('ending', left > 0 && left < 10000);
    if (fill && ttl > 0) fill.style.width = Math.max(0, Math.min(100, (left / ttl) * 100)).toFixed(1) + '%';
  }

  // --- API -------------------------------------------------------------------------

  function ApiError(message, status, code) {
    this.message = message;
    this.status = status;
    this.code = code;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.name = 'ApiError';

  function request(method, url, body) {
    var init = { method: method, headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-cache' };
    if (method !== 'GET') {
      init.headers['Content-Type'] = 'application/json';
      if (state.token) init.headers.Authorization = 'Bearer ' + state.token;
      init.body = JSON.stringify(body || {});
    }
    return fetch(url, init).then(
      function (res) {
        noteServerClock(res);
        return res.text().then(function (text) {
          var data = null;
          try {
            data = text ? JSON.parse(text) : null;
          } catch (e) {
            data = null;
          }
          if (!res.ok) {
            var msg = data && typeof data.error === 'string' ? data.error : 'HTTP ' + res.status + ' ' + res.statusText;
            throw new ApiError(msg, res.status, data && data.code);
          }
          return data;
        });
      },
      function () {
        throw new ApiError('cannot reach the server', 0, 'NETWORK');
      },
    );
  }

  /** Times come from the server's clock; when the browser's is off by more than 2 s, follow the server. */
  function noteServerClock(res) {
    var date = Date.parse(res.headers.get('Date') || '');
    if (isNaN(date)) return;
    var offset = date + 500 - Date.now();
    state.clockOffset = Math.abs(offset) > 2000 ? offset : 0;
  }

  // --- refresh ---------------------------------------------------------------------

  /** Re-reads everything; concurrent calls coalesce into one more pass. */
  function refresh() {
    if (state.refreshing) {
      state.refreshAgain = true;
      return state.refreshing;
    }
    // Health and status are the page and are shown as soon as they arrive; the timeline and the
    // audit trail follow, and keep their last view if only they fail.
    var keep = function (previous) {
      return function (err) {
        if (err.status === 0) throw err;
        return previous;
      };
    };
    var feeds = Promise.all([
      request('GET', 'api/events?last=' + EVENTS_SHOWN).catch(keep(state.events)),
      request('GET', 'api/log?last=' + LOG_SHOWN).catch(keep(state.log)),
    ]);
    feeds.catch(function () {
      /* reported through the chain below */
    });
    state.refreshing = Promise.all([request('GET', 'api/health'), request('GET', 'api/status')])
      .then(function (r) {
        state.fetchFailed = false;
        state.lastUpdate = Date.now();
        applyHealth(r[0]);
        state.status = r[1];
        render(state.status);
        return feeds;
      })
      .then(function (r) {
        state.events = Array.isArray(r[0]) ? r[0] : [];
        state.log = Array.isArray(r[1]) ? r[1] : [];
        renderFeeds(state.status, state.events, state.log);
        return refreshOpenTopic(state.status.knowledge_topics || []);
      })
      .catch(function (err) {
        if (!(err instanceof ApiError)) {
          // A fault of this page, not of the connection.
          if (window.console) console.error(err);
          showBanner('This update could not be shown: ' + (err && err.message ? err.message : String(err)));
          return;
        }
        state.fetchFailed = true;
        showBanner(
          err.status === 0
            ? 'Cannot reach the server' + (state.lastUpdate ? '; showing the board as of ' + clockTime(new Date(state.lastUpdate).toISOString()) : '') + '.'
            : 'The server answered with an error: ' + err.message,
        );
      })
      .then(function () {
        state.refreshing = null;
        updateConnection();
        tick();
        if (state.refreshAgain) {
          state.refreshAgain = false;
          refresh();
        }
      });
    return state.refreshing;
  }

  function applyHealth(hl) {
    var first = !state.health;
    state.health = hl;
    document.body.classList.toggle('read-only', !!hl.read_only);
    var mode = $('mode');
    mode.hidden = !hl.read_only;
    mode.textContent = hl.read_only ? 'read-only' : '';
    $('kb-form').hidden = !!hl.read_only;
    $('token-form').hidden = !(hl.token_required && !hl.read_only && !state.token);
    $('token-forget').hidden = !(hl.token_required && state.token);
    setText('foot-remote', hl.remote ? 'remote: ' + hl.remote : 'local branch (no remote)');
    if (hl.fetch_error) showBanner('Fetching the remote failed: ' + hl.fetch_error + ' (the board may be behind).');
    else hideBanner();
    if (first && hl.token_required && !state.token && !hl.read_only) $('token-message').textContent = 'Reading works without it.';
  }

  function showBanner(text) {
    var b = $('banner');
    b.textContent = text;
    b.hidden = false;
  }

  function hideBanner() {
    $('banner').hidden = true;
  }

  // --- rendering -------------------------------------------------------------------

  /** Everything that comes from /api/status. */
  function render(status) {
    var ws = (status.workstreams || []).slice().sort(function (a, b) {
      return a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    var agents = status.agents || [];
    var locks = status.active_locks || [];
    var topics = status.knowledge_topics || [];

    var short = status.commit ? status.commit.slice(0, 7) : 'no commit';
    setText('commit', short);
    $('commit').title = status.commit ? 'Showing commit ' + status.commit : 'The branch has no commits yet';
    setText('branch', status.branch || (state.health && state.health.branch) || '—');
    document.title = 'Orchestrator · ' + (status.branch || 'board');

    region('stats', statsOf(ws, agents, locks), renderStats);
    region('workstreams', { ws: ws, collapsed: state.collapsed, showDone: state.showDone }, renderWorkstreams);
    setText('ws-note', ws.length ? ws.length + ' · by priority' : '');
    region('agents', agents, renderAgents);
    var stale = agents.filter(function (a) { return a.stale; }).length;
    setText('agents-note', agents.length ? agents.length + (stale ? ' · ' + stale + ' stale' : '') : '');
    region('locks', locks, renderLocks);
    setText('locks-note', locks.length ? String(locks.length) : '');
    region('topics', { topics: topics, open: state.openTopic }, renderTopics);
    setText('topics-note', topics.length ? String(topics.length) : '');
  }

  /** The timeline and the audit trail (the latter marks the commit the page shows). */
  function renderFeeds(status, events, log) {
    region('events', events.slice().reverse(), renderEvents);
    region('log', { log: log, commit: status.commit }, renderLog);
  }

  function statsOf(ws, agents, locks) {
    var s = { workstreams: ws.length, pending: 0, in_progress: 0, done: 0, failed: 0, tasks: 0, agents: agents.length, stale: 0, locks: locks.length };
    ws.forEach(function (w) {
      s.pending += w.pending || 0;
      s.in_progress += w.in_progress || 0;
      s.done += w.done || 0;
      s.failed += w.failed || 0;
      s.tasks += w.task_count || 0;
    });
    agents.forEach(function (a) {
      if (a.stale) s.stale++;
    });
    return s;
  }

  function renderStats(s) {
    function stat(key, label, value, sub) {
      return h('div', { class: 'stat stat-' + key + (value === 0 ? ' zero' : ''), data: { stat: key } }, h('span', { class: 'stat-value', text: value }), h('span', { class: 'stat-label', text: label }), sub ? h('span', { class: 'stat-sub', text: sub }) : null);
    }
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

  function empty(text, hint) {
    return h('div', { class: 'empty' }, h('p', { text: text }), hint ? h('code', { text: hint }) : null);
  }

  function renderWorkstreams(data) {
    var ws = data.ws;
    if (!ws.length) return empty('No workstreams yet.', 'orchestrator ws create <name> [description] [priority]');
    var titles = Object.create(null);
    ws.forEach(function (w) {
      (w.tasks || []).forEach(function (t) {
        titles[t.id] = t;
      });
    });
    return ws.map(function (w) {
      return renderWorkstream(w, titles);
    });
  }

  function renderWorkstream(w, byId) {
    var total = w.task_count || 0;
    var collapsed = !!state.collapsed[w.name];
    var tasks = w.tasks || [];
    var doneShown = !!state.showDone[w.name];
    var open = tasks.filter(function (t) { return t.status !== 'done'; });
    var done = tasks.filter(function (t) { return t.status === 'done'; });
    // Long boards fold finished work away; short ones show everything.
    var foldDone = done.length > 3 && open.length > 0;
    var shown = foldDone && !doneShown ? open : tasks;

    var bar = h('div', { class: 'progress', role: 'img', 'aria-label': w.done + ' of ' + total + ' tasks done' });
    ['done', 'in_progress', 'failed', 'pending'].forEach(function (k) {
      if (!w[k]) return;
      var seg = h('span', { class: 'seg seg-' + k, title: w[k] + ' ' + STATUS_LABEL[k] });
      seg.style.flexGrow = String(w[k]);
      bar.appendChild(seg);
    });

    var head = h(
      'button',
      { type: 'button', class: 'ws-head', 'aria-expanded': String(!collapsed), on: { click: function () { toggle(state.collapsed, w.name); } } },
      h('span', { class: 'chev', 'aria-hidden': 'true' }),
      h('span', { class: 'ws-name', text: w.name }),
      h('span', { class: 'prio', title: 'Priority (lower is more urgent)', text: 'P' + w.priority }),
      w.status && w.status !== 'active' ? h('span', { class: 'chip chip-muted', text: w.status }) : null,
      h('span', { class: 'ws-count', text: total ? w.done + '/' + total + ' done' : 'no tasks' }),
    );

    var body = null;
    if (!collapsed) {
      body = h(
        'div',
        { class: 'ws-body' },
        tasks.length ? h('ul', { class: 'tasks' }, shown.map(function (t) { return renderTask(t, byId); })) : h('p', { class: 'muted small', text: 'No tasks in this workstream.' }),
        foldDone
          ? h('button', {
              type: 'button',
              class: 'btn-link small',
              text: doneShown ? 'Hide ' + done.length + ' done' : 'Show ' + done.length + ' done',
              on: { click: function () { toggle(state.showDone, w.name); } },
            })
          : null,
      );
    }

    return h(
      'article',
      { class: 'ws' + (collapsed ? ' collapsed' : ''), data: { workstream: w.name } },
      head,
      w.description ? h('p', { class: 'ws-desc', text: w.description }) : null,
      h('div', { class: 'ws-progress' }, bar, h('span', { class: 'ws-breakdown' }, breakdown(w))),
      body,
    );
  }

  function breakdown(w) {
    var parts = [];
    ['pending', 'in_progress', 'done', 'failed'].forEach(function (k) {
      if (w[k]) parts.push(h('span', { class: 'bd bd-' + k }, h('i', { 'aria-hidden': 'true' }), w[k] + ' ' + STATUS_LABEL[k]));
    });
    return parts;
  }

  function toggle(set, key) {
    if (set[key]) delete set[key];
    else set[key] = true;
    if (state.status) render(state.status);
  }

  function renderTask(t, byId) {
    var status = STATUS_LABEL[t.status] ? t.status : 'pending';
    var meta = [
      h('span', { class: 'tid mono', title: 'Task id', text: t.id }),
      h('span', { class: 'prio prio-small', title: 'Priority (lower is more urgent)', text: 'P' + t.priority }),
      t.estimate ? h('span', { class: 'meta-item', title: 'Estimate', text: '≈ ' + t.estimate }) : null,
    ];
    var deps = Array.isArray(t.depends_on) ? t.depends_on : [];
    var needs = Array.isArray(t.needs) ? t.needs : [];
    var links = null;
    if (deps.length || needs.length) {
      links = h(
        'div',
        { class: 'task-links' },
        deps.length
          ? h('span', { class: 'link-group' }, h('span', { class: 'link-label', text: 'after' }), deps.map(function (id) {
              var dep = byId[id];
              var done = dep && dep.status === 'done';
              return h('span', { class: 'chip chip-dep mono' + (done ? ' dep-done' : ''), title: dep ? dep.title + ' (' + STATUS_LABEL[dep.status] + ')' : 'unknown task', text: (done ? '✓ ' : '') + id });
            }))
          : null,
        needs.length
          ? h('span', { class: 'link-group' }, h('span', { class: 'link-label', text: 'needs' }), needs.map(function (r) {
              return h('span', { class: 'chip chip-need mono', title: 'Resource', text: r });
            }))
          : null,
      );
    }
    return h(
      'li',
      { class: 'task task-' + status, data: { task: t.id } },
      h('span', { class: 'badge badge-' + status, text: STATUS_LABEL[status] }),
      h(
        'div',
        { class: 'task-main' },
        h('div', { class: 'task-title', text: t.title }),
        t.description ? h('div', { class: 'task-desc', text: t.description }) : null,
        links,
        t.result ? h('div', { class: 'task-result' }, h('span', { class: 'link-label', text: status === 'failed' ? 'error' : 'result' }), h('span', { text: t.result })) : null,
      ),
      h('div', { class: 'task-side' }, t.assigned_to ? h('span', { class: 'assignee', title: 'Assigned to' }, h('i', { 'aria-hidden': 'true' }), t.assigned_to) : h('span', { class: 'assignee unassigned', text: 'unassigned' }), h('span', { class: 'task-meta' }, meta)),
    );
  }

  function renderAgents(agents) {
    if (!agents.length) return [h('li', { class: 'empty-row' }, empty('No agents registered.', 'orchestrator agent register <id> [type]'))];
    return agents
      .slice()
      .sort(function (a, b) {
        return (a.stale ? 1 : 0) - (b.stale ? 1 : 0) || (a.id < b.id ? -1 : 1);
      })
      .map(function (a) {
        return h(
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
              (a.capabilities || []).map(function (c) {
                return h('span', { class: 'chip chip-cap', text: c });
              }),
            ),
          ),
          h('div', { class: 'row-side' }, h('span', { class: 'muted small', text: 'heartbeat' }), age(a.last_seen, 'heartbeat')),
        );
      });
  }

  function renderLocks(locks) {
    if (!locks.length) return [h('li', { class: 'empty-row' }, h('p', { class: 'muted small', text: 'No locks held.' }))];
    return locks.map(function (l) {
      var row = h(
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
      updateLeft(row);
      return row;
    });
  }

  function renderTopics(data) {
    if (!data.topics.length) return [h('li', { class: 'muted small', text: 'No topics yet.' })];
    return data.topics.map(function (topic) {
      return h(
        'li',
        null,
        h('button', {
          type: 'button',
          class: 'topic' + (topic === data.open ? ' active' : ''),
          'aria-pressed': String(topic === data.open),
          data: { topic: topic },
          text: topic,
          on: { click: function () { openTopic(topic); } },
        }),
      );
    });
  }

  var ACTION_KIND = { task: 'task', workstream: 'ws', agent: 'agent', lock: 'lock', knowledge: 'kb' };

  function renderEvents(events) {
    if (!events.length) return [h('li', { class: 'muted small', text: 'No events yet.' })];
    return events.map(function (e) {
      var action = String(e.action || '');
      var kind = ACTION_KIND[action.split(/[_.]/)[0]] || 'other';
      var details = [];
      for (var k in e) {
        if (k === 'ts' || k === 'agent' || k === 'action') continue;
        var v = e[k];
        var text = typeof v === 'string' ? v : JSON.stringify(v);
        if (text && text.length > 160) text = text.slice(0, 157) + '…';
        details.push(h('span', { class: 'kv' }, h('span', { class: 'k', text: k.replace(/_/g, ' ') }), h('span', { class: 'v', text: text })));
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

  function renderLog(data) {
    if (!data.log.length) return [h('li', { class: 'muted small', text: 'No commits yet.' })];
    return data.log.map(function (c) {
      var current = c.id === data.commit;
      return h(
        'li',
        { class: 'commit' + (current ? ' current' : ''), data: { commit: c.id } },
        h('span', { class: 'sha mono', title: c.id, text: String(c.id).slice(0, 7) }),
        h('span', { class: 'subject', text: c.subject }),
        h('span', { class: 'commit-meta' }, h('span', { class: 'commit-agent', text: c.agent }), h('time', { datetime: c.time, title: String(c.time), text: clockTime(c.time) }), current ? h('span', { class: 'chip chip-current', text: 'shown' }) : null),
      );
    });
  }

  // --- knowledge -------------------------------------------------------------------

  function topicUrl(topic) {
    return 'api/knowledge/' + encodeURIComponent(topic);
  }

  function openTopic(topic) {
    state.openTopic = topic;
    $('topic-notice').hidden = true;
    setText('topic-title', topic);
    $('topic-view').hidden = false;
    markOpenTopic();
    return request('GET', topicUrl(topic)).then(
      function (data) {
        if (state.openTopic !== topic) return;
        showTopicContent(data.content);
      },
      function (err) {
        if (state.openTopic !== topic) return;
        if (err.status === 404) topicGone(topic);
        else showTopicContent(null, 'Could not read this topic: ' + err.message);
      },
    );
  }

  function markOpenTopic() {
    var buttons = $('topics').querySelectorAll('button.topic');
    for (var i = 0; i < buttons.length; i++) {
      var on = buttons[i].dataset.topic === state.openTopic;
      buttons[i].classList.toggle('active', on);
      buttons[i].setAttribute('aria-pressed', String(on));
    }
    state.rendered.topics = JSON.stringify({ topics: state.status ? state.status.knowledge_topics || [] : [], open: state.openTopic });
  }

  function showTopicContent(content, error) {
    if (error) {
      state.openContent = null;
      $('topic-content').replaceChildren(h('p', { class: 'form-message error', text: error }));
      return;
    }
    if (content === state.openContent && $('topic-content').childNodes.length) return;
    state.openContent = content;
    $('topic-content').replaceChildren.apply($('topic-content'), markdown(content));
  }

  function closeTopic() {
    state.openTopic = null;
    state.openContent = null;
    $('topic-view').hidden = true;
    $('topic-content').replaceChildren();
    markOpenTopic();
  }

  function topicGone(topic) {
    closeTopic();
    var n = $('topic-notice');
    n.textContent = 'Topic "' + topic + '" was deleted.';
    n.hidden = false;
  }

  /** After an update: keep the open topic current, or say it is gone. */
  function refreshOpenTopic(topics) {
    var topic = state.openTopic;
    if (!topic) return null;
    if (topics.indexOf(topic) < 0) {
      topicGone(topic);
      return null;
    }
    return request('GET', topicUrl(topic)).then(
      function (data) {
        if (state.openTopic === topic) showTopicContent(data.content);
      },
      function (err) {
        if (state.openTopic === topic && err.status === 404) topicGone(topic);
      },
    );
  }

  function formMessage(id, text, kind) {
    var m = $(id);
    m.textContent = text;
    m.className = 'form-message' + (kind ? ' ' + kind : '');
  }

  function onSave(ev) {
    ev.preventDefault();
    var topic = $('kb-topic').value.trim();
    var content = $('kb-content').value;
    if (!topic) {
      formMessage('kb-message', 'Give the topic a name.', 'error');
      $('kb-topic').focus();
      return;
    }
    var button = $('kb-save');
    button.disabled = true;
    formMessage('kb-message', 'Saving…', 'busy');
    request('PUT', topicUrl(topic), { content: content, agent: 'dashboard' })
      .then(function () {
        formMessage('kb-message', 'Saved "' + topic + '" at ' + clockTime(new Date(now()).toISOString()) + '.', 'ok');
        openTopic(topic);
        refresh();
      })
      .catch(function (err) {
        writeFailed('kb-message', err);
      })
      .then(function () {
        button.disabled = false;
      });
  }

  function onDelete() {
    var topic = state.openTopic;
    if (!topic) return;
    if (!window.confirm('Delete the knowledge topic "' + topic + '"? This commits a deletion to the branch.')) return;
    var button = $('topic-delete');
    button.disabled = true;
    request('DELETE', topicUrl(topic), { agent: 'dashboard' })
      .then(function () {
        if (state.openTopic === topic) topicGone(topic);
        refresh();
      })
      .catch(function (err) {
        if (err.status === 404) {
          topicGone(topic);
          return;
        }
        showTopicContent(state.openContent || '');
        var n = $('topic-notice');
        n.textContent = 'Could not delete "' + topic + '": ' + err.message;
        n.hidden = false;
        if (err.status === 401) askForToken(refusedTokenMessage());
      })
      .then(function () {
        button.disabled = false;
      });
  }

  function onEdit() {
    if (!state.openTopic || state.openContent === null) return;
    var area = $('kb-content');
    var name = $('kb-topic');
    var dirty = area.value && area.value !== state.openContent && !(name.value === state.openTopic);
    if (dirty && !window.confirm('Replace what you are writing with "' + state.openTopic + '"?')) return;
    name.value = state.openTopic;
    area.value = state.openContent;
    formMessage('kb-message', 'Editing "' + state.openTopic + '".', '');
    area.focus();
  }

  function refusedTokenMessage() {
    return state.token ? 'The token was refused; paste a valid one.' : 'Paste the token printed by the serve command (the #token= part of its URL).';
  }

  function writeFailed(messageId, err) {
    if (err.status === 401) {
      askForToken(refusedTokenMessage());
      formMessage(messageId, 'Not saved: ' + err.message, 'error');
    } else if (err.status === 0) {
      formMessage(messageId, 'Not saved: the server cannot be reached.', 'error');
    } else {
      formMessage(messageId, 'Not saved: ' + err.message, 'error');
    }
  }

  // --- token -----------------------------------------------------------------------

  /** `#token=...` in the URL (what `serve` prints) goes to sessionStorage and out of the address bar. */
  function takeToken() {
    var m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (m) {
      var token = '';
      try {
        token = decodeURIComponent(m[1]);
      } catch (e) {
        token = m[1];
      }
      if (token) storeToken(token);
      history.replaceState(null, '', location.pathname + location.search);
    }
    if (!state.token) {
      try {
        state.token = sessionStorage.getItem(TOKEN_KEY);
      } catch (e) {
        state.token = null;
      }
    }
  }

  function storeToken(token) {
    state.token = token || null;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage may be disabled; the token then lives as long as the page */
    }
  }

  function askForToken(message) {
    storeToken(null);
    $('token-form').hidden = !!(state.health && state.health.read_only);
    $('token-forget').hidden = true;
    $('token-message').textContent = message || '';
  }

  function onToken(ev) {
    ev.preventDefault();
    var value = $('token-input').value.trim();
    if (!value) {
      $('token-message').textContent = 'Paste the token printed by the serve command.';
      return;
    }
    storeToken(value);
    $('token-input').value = '';
    $('token-message').textContent = '';
    $('token-form').hidden = true;
    $('token-forget').hidden = false;
    formMessage('kb-message', 'Token set for this tab.', 'ok');
  }

  // --- markdown (a small, safe subset rendered as DOM) -----------------------------

  function markdown(src) {
    var lines = String(src).replace(/\r\n?/g, '\n').split('\n');
    var out = [];
    var para = [];
    var list = null;
    function flushPara() {
      if (para.length) out.push(h('p', null, inline(para.join(' '))));
      para = [];
    }
    function flushList() {
      if (list) out.push(list);
      list = null;
    }
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      var m;
      if (/^\s*```/.test(line)) {
        flushPara();
        flushList();
        var code = [];
        i++;
        while (i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i++]);
        out.push(h('pre', null, h('code', { text: code.join('\n') })));
      } else if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        flushPara();
        flushList();
        out.push(h('h' + Math.min(6, m[1].length + 3), { class: 'md-h' }, inline(m[2])));
      } else if ((m = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/.exec(line))) {
        flushPara();
        var tag = m[1] ? 'ol' : 'ul';
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
    var parts = [];
    var re = /(`[^`]+`)|(\*\*[^*]+\*\*)|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g;
    var last = 0;
    var m;
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

  // --- connection ------------------------------------------------------------------

  function updateConnection() {
    var mode = state.fetchFailed ? 'offline' : state.streamOpen ? 'live' : state.lastUpdate ? 'polling' : 'connecting';
    var conn = $('conn');
    conn.className = 'conn conn-' + mode;
    conn.dataset.state = mode;
    setText('conn-label', mode);
    conn.title =
      mode === 'live'
        ? 'Live: the server pushes every new commit'
        : mode === 'polling'
          ? 'The live stream is unavailable; checking every ' + POLL_MS / 1000 + ' s'
          : mode === 'offline'
            ? 'The server cannot be reached'
            : 'Connecting';
  }

  /** Polls every 5 s; the first look is immediate (a commit may have come while the stream was failing). */
  function startPolling() {
    if (state.pollTimer) return;
    state.pollTimer = setInterval(refresh, POLL_MS);
    refresh();
  }

  function stopPolling() {
    if (!state.pollTimer) return;
    clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  function connect() {
    if (typeof EventSource !== 'function') {
      startPolling();
      return;
    }
    var es;
    try {
      es = new EventSource('api/stream');
    } catch (e) {
      startPolling();
      return;
    }
    state.stream = es;
    es.addEventListener('open', function () {
      state.streamOpen = true;
      stopPolling();
      updateConnection();
    });
    es.addEventListener('commit', function () {
      state.streamOpen = true;
      stopPolling();
      refresh();
    });
    es.addEventListener('error', function () {
      state.streamOpen = false;
      startPolling();
      updateConnection();
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (a non-stream answer): try a fresh stream later, poll meanwhile.
        es.close();
        if (state.stream === es) state.stream = null;
        clearTimeout(state.reconnectTimer);
        state.reconnectTimer = setTimeout(connect, 15000);
      }
    });
  }

  // --- start -----------------------------------------------------------------------

  function start() {
    takeToken();
    $('kb-form').addEventListener('submit', onSave);
    $('token-form').addEventListener('submit', onToken);
    $('topic-close').addEventListener('click', closeTopic);
    $('topic-delete').addEventListener('click', onDelete);
    $('topic-edit').addEventListener('click', onEdit);
    $('token-forget').addEventListener('click', function () {
      askForToken('Token forgotten.');
    });
    updateConnection();
    refresh();
    connect();
    setInterval(tick, 1000);
    setInterval(function () {
      if (state.streamOpen) refresh();
    }, SAFETY_REFRESH_MS);
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) refresh();
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
