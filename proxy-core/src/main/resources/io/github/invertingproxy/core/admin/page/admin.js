// The admin page's script: lists backend records with their agents' status, and adds, edits and
// deletes them through the admin API. Everything shown is set as text, never parsed as HTML.
'use strict';

(() => {
  const API = '../api/backends';
  const TOKEN_KEY = 'invertingProxyAdminToken';
  const REFRESH_MS = 5000;
  const $ = (id) => document.getElementById(id);

  let editing = null; // id of the record in the form, or null when adding one
  let confirmingDelete = null; // id whose delete button asks for a second click
  let refreshTimer = null;
  let latest = [];

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  function call(method, path, body) {
    // JSON on every call: the API wants it on writes, and on a DELETE sent without a token.
    const headers = { 'Content-Type': 'application/json' };
    const t = token();
    if (t) {
      headers.Authorization = 'Bearer ' + t;
    }
    return fetch(API + path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** The API's one-line message, as it sent it. */
  async function messageOf(response) {
    const text = await response.text();
    const line = text.split('\n')[0];
    return line !== '' ? line : 'HTTP ' + response.status + ' ' + response.statusText;
  }

  function show(id, message) {
    const element = $(id);
    element.textContent = message || '';
    element.hidden = !message;
  }

  const showError = (message) => { show('error', message); if (message) { show('notice', ''); } };
  const showNotice = (message) => { show('notice', message); if (message) { show('error', ''); } };

  async function load() {
    let response;
    try {
      response = await call('GET', '');
    } catch (e) {
      showError('Could not reach the admin API: ' + e.message);
      return;
    }
    // A token that is refused, or is no administrator's, is forgotten and asked for again.
    if (response.status === 401 || (response.status === 403 && token())) {
      const message = await messageOf(response);
      if (token()) {
        sessionStorage.removeItem(TOKEN_KEY);
        showError(message);
      }
      stopRefreshing();
      $('records').hidden = true;
      $('token-form').hidden = false;
      $('token').focus();
      return;
    }
    if (!response.ok) {
      showError(await messageOf(response));
      return;
    }
    latest = await response.json();
    $('token-form').hidden = true;
    $('records').hidden = false;
    $('forget-token').hidden = !token();
    render();
    startRefreshing();
  }

  function startRefreshing() {
    if (refreshTimer === null) {
      refreshTimer = setInterval(load, REFRESH_MS);
    }
  }

  function stopRefreshing() {
    clearInterval(refreshTimer);
    refreshTimer = null;
  }

  function ago(time) {
    const seconds = Math.round((Date.now() - Date.parse(time)) / 1000);
    if (Number.isNaN(seconds)) {
      return time;
    }
    if (seconds < 120) {
      return time + ' (' + Math.max(seconds, 0) + ' s ago)';
    }
    return time + ' (' + Math.round(seconds / 60) + ' min ago)';
  }

  function cell(row, text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    row.appendChild(td);
    return td;
  }

  function button(parent, text, className, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.className = className;
    b.addEventListener('click', onClick);
    parent.appendChild(b);
  }

  function render() {
    const rows = $('rows');
    rows.replaceChildren();
    let live = 0;
    for (const r of latest) {
      const tr = document.createElement('tr');
      tr.dataset.id = r.id;
      cell(tr, r.id);
      cell(tr, r.endUser);
      cell(tr, r.backendUser);
      cell(tr, (r.pathPrefixes || []).join(' '));
      if (r.live === undefined) {
        cell(tr, '?', 'muted');
      } else {
        cell(tr, r.live ? 'live' : 'not live', r.live ? 'live' : 'down');
        live += r.live ? 1 : 0;
      }
      cell(tr, r.lastSeen ? ago(r.lastSeen) : 'never');
      cell(tr, r.lastUsed ? ago(r.lastUsed) : 'never');
      cell(tr, r.agentsConnected === undefined ? 'not known' : String(r.agentsConnected), 'num');
      cell(tr, r.requestsInFlight === undefined ? 'not known' : String(r.requestsInFlight), 'num');
      const actions = cell(tr, '');
      button(actions, 'Edit', 'edit', () => edit(r));
      if (confirmingDelete === r.id) {
        button(actions, 'Really delete?', 'delete confirm', () => remove(r.id));
      } else {
        button(actions, 'Delete', 'delete', () => { confirmingDelete = r.id; render(); });
      }
      rows.appendChild(tr);
    }
    $('empty').hidden = latest.length > 0;
    $('summary').textContent = latest.length + (latest.length === 1 ? ' record, ' : ' records, ') + live
        + ' live; updated ' + new Date().toLocaleTimeString();
  }

  function edit(record) {
    confirmingDelete = null;
    editing = record.id;
    $('field-id').value = record.id;
    $('field-id').readOnly = true;
    $('field-endUser').value = record.endUser || '';
    $('field-backendUser').value = record.backendUser || '';
    $('field-pathPrefixes').value = (record.pathPrefixes || []).join('\n');
    $('form-title').textContent = 'Edit backend ' + record.id;
    $('save').textContent = 'Save';
    $('cancel').hidden = false;
    render();
  }

  function resetForm() {
    editing = null;
    $('record-form').reset();
    $('field-id').readOnly = false;
    $('form-title').textContent = 'Add a backend';
    $('save').textContent = 'Add';
    $('cancel').hidden = true;
  }

  async function save(event) {
    event.preventDefault();
    const record = {
      id: editing !== null ? editing : $('field-id').value.trim(),
      endUser: $('field-endUser').value.trim(),
      backendUser: $('field-backendUser').value.trim(),
      pathPrefixes: $('field-pathPrefixes').value.split('\n').map((p) => p.trim()).filter((p) => p !== ''),
    };
    const adding = editing === null;
    await send(adding ? 'POST' : 'PUT', adding ? '' : '/' + encodeURIComponent(editing), record,
        (adding ? 'Added ' : 'Saved ') + record.id, resetForm);
  }

  async function remove(id) {
    confirmingDelete = null;
    await send('DELETE', '/' + encodeURIComponent(id), undefined, 'Deleted ' + id, () => {
      if (editing === id) {
        resetForm();
      }
    });
  }

  async function send(method, path, body, done, onSuccess) {
    let response;
    try {
      response = await call(method, path, body);
    } catch (e) {
      showError('Could not reach the admin API: ' + e.message);
      return;
    }
    if (!response.ok) {
      showError(await messageOf(response));
      render();
      return;
    }
    onSuccess();
    showNotice(done);
    await load();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('record-form').addEventListener('submit', save);
    $('cancel').addEventListener('click', () => { resetForm(); render(); });
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('token').value);
      $('token').value = '';
      showError('');
      load();
    });
    $('forget-token').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      showNotice('');
      load();
    });
    load();
  });
})();
