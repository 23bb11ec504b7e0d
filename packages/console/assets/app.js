// The evkit console page: plain JavaScript, no framework, nothing loaded from elsewhere. One file
// for the three tabs, so the package ships no build step; past 300 lines for that reason.
// Every value from Kafka or the registry is put in the page as text (textContent), never as HTML:
// a record's key, headers and data are whatever its producer wrote.
/* global document, Node */
'use strict';

const csrf = document.querySelector('meta[name="evkit-csrf"]').content;
const $ = (selector) => document.querySelector(selector);
const state = { topic: null, records: [], selected: new Set(), open: new Set() };

function el(tag, attrs = {}, ...children) {
  const node = tag === 'svg' || attrs.svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'svg' || value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}
const svg = (tag, attrs = {}, ...children) => el(tag, { ...attrs, svg: true }, ...children);

function showError(error) {
  const box = $('#error');
  box.hidden = !error;
  box.textContent = error ? String(error.message || error) : '';
}

async function api(path, body) {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json', 'x-evkit-csrf': csrf }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const json = await response.json();
  if (!response.ok) throw new Error(json.error || `HTTP ${response.status}`);
  return json;
}

const when = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
const duration = (ms) => (ms === null || ms === undefined ? 'unknown' : ms < 1000 ? `${ms} ms` : ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)}m ${Math.round((ms % 60000) / 1000)}s`);
const positionKey = (p) => `${p.partition}:${p.offset}`;

// ---- tabs
for (const button of document.querySelectorAll('.tab')) {
  button.addEventListener('click', () => {
    for (const other of document.querySelectorAll('.tab')) other.setAttribute('aria-selected', String(other === button));
    for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== `tab-${button.dataset.tab}`;
    if (button.dataset.tab === 'schemas') loadSubjects().catch(showError);
  });
}

// ---- dead letters
async function loadTopics() {
  const filter = $('#topic-filter').value.trim();
  const topics = (await api('/api/dlq')).filter((t) => !filter || t.topic.includes(filter));
  $('#dlq-empty').hidden = topics.length > 0;
  $('#dlq-topics tbody').replaceChildren(
    ...topics.map((t) =>
      el('tr', { class: `clickable${t.topic === state.topic ? ' active' : ''}`, 'data-topic': t.topic, onclick: () => selectTopic(t.topic) },
        el('td', { class: 'code', text: t.topic }),
        el('td', { text: t.group ?? '?' }),
        el('td', { text: t.sourceTopic ?? '?' }),
        el('td', { class: 'num waiting', text: t.pending }),
        el('td', { class: 'num', text: t.parked }),
        el('td', { class: 'num', text: t.growthPerMinute === null ? '…' : (t.growthPerMinute > 0 ? '+' : '') + t.growthPerMinute }),
      ),
    ),
  );
}

async function selectTopic(topic) {
  if (state.topic !== topic) {
    state.selected.clear();
    state.open.clear();
  }
  state.topic = topic;
  $('#dlq-detail').hidden = false;
  $('#dlq-title').textContent = topic;
  for (const row of document.querySelectorAll('#dlq-topics tbody tr')) row.classList.toggle('active', row.dataset.topic === topic);
  await loadRecords();
}

async function loadRecords() {
  const topic = state.topic;
  const [groups, records] = await Promise.all([api(`/api/dlq/groups?topic=${encodeURIComponent(topic)}`), api(`/api/dlq/records?topic=${encodeURIComponent(topic)}`)]);
  if (topic !== state.topic) return;
  state.records = records;
  const present = new Set(records.map((r) => positionKey(r.position)));
  for (const key of [...state.selected]) if (!present.has(key)) state.selected.delete(key);
  $('#dlq-groups tbody').replaceChildren(
    ...groups.map((g) => {
      const selection = { ...(g.errorCode ? { errorCode: g.errorCode } : { errorClass: g.errorClass }), ...(g.eventType ? { eventType: g.eventType } : {}) };
      const label = `${g.count} record(s) of ${g.errorCode ?? g.errorClass} / ${g.eventType ?? '?'}`;
      return el('tr', {},
        el('td', { class: 'num', text: g.count }),
        el('td', { class: 'code', text: g.errorCode ?? '-' }),
        el('td', { text: g.errorClass ?? '?' }),
        el('td', { class: 'code', text: g.eventType ?? '?' }),
        el('td', { text: when(new Date(g.firstAt).toISOString()) }),
        el('td', { class: 'message', text: g.sampleMessage ?? '' }),
        el('td', {},
          el('button', { type: 'button', text: 'Replay group', onclick: () => confirmAction('replay', selection, label) }), ' ',
          el('button', { type: 'button', text: 'Park group', onclick: () => confirmAction('park', selection, label) })),
      );
    }),
  );
  const rows = [];
  for (const r of records) {
    const key = positionKey(r.position);
    rows.push(el('tr', { 'data-position': key, class: 'record' },
      el('td', {}, el('input', { type: 'checkbox', checked: state.selected.has(key), 'aria-label': `select ${key}`, onchange: (e) => toggleSelected(key, e.target.checked) })),
      el('td', { class: 'code', text: key }),
      el('td', { text: when(r.timestamp) }),
      el('td', { class: 'code', text: r.key ?? '(none)' }),
      el('td', { class: 'code', text: r.eventType ?? '?' }),
      el('td', {}, el('div', { class: 'code', text: r.errorCode ?? r.errorClass ?? '?' }), el('div', { class: 'message', text: `${r.errorClass ?? ''}: ${r.errorMessage ?? ''}` })),
      el('td', { class: 'num', text: r.attempts ?? '?' }),
      el('td', {},
        el('button', { type: 'button', class: 'details', text: state.open.has(key) ? 'Hide' : 'Details', onclick: () => toggleOpen(key) }), ' ',
        el('button', { type: 'button', class: 'replay-one', text: 'Replay', onclick: () => confirmAction('replay', { positions: [r.position] }, `record ${key}`) }), ' ',
        el('button', { type: 'button', class: 'park-one', text: 'Park', onclick: () => confirmAction('park', { positions: [r.position] }, `record ${key}`) })),
    ));
    if (state.open.has(key)) rows.push(detailRow(r));
  }
  $('#dlq-records tbody').replaceChildren(...rows);
  updateSelectionButtons();
}

function detailRow(r) {
  const decoded = r.decoded.ok
    ? el('div', {}, el('h3', { text: `Envelope and data (schema id ${r.decoded.schemaId})` }), el('pre', { class: 'decoded', text: JSON.stringify(r.decoded.event, null, 2) }))
    : el('div', {}, el('h3', { text: 'Could not decode' }), el('p', { class: 'message', text: r.decoded.error }), el('pre', { text: `value (base64): ${r.decoded.valueBase64 ?? '(null)'}` }));
  const diagnostics = {
    group: r.consumerGroup, handler: r.handler, errorCode: r.errorCode, errorClass: r.errorClass, errorMessage: r.errorMessage, attempts: r.attempts,
    firstFailure: r.firstFailure, lastFailure: r.lastFailure, original: r.original, ...(r.problems.length ? { problems: r.problems } : {}),
  };
  return el('tr', { class: 'detail' }, el('td', { colspan: 8 },
    el('div', { class: 'detail-grid' }, decoded,
      el('div', {}, el('h3', { text: 'Diagnostics' }), el('pre', { class: 'diagnostics', text: JSON.stringify(diagnostics, null, 2) }),
        el('h3', { text: 'Headers' }), el('pre', { class: 'headers', text: Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join('\n') }))),
  ));
}

function toggleOpen(key) {
  if (state.open.has(key)) state.open.delete(key);
  else state.open.add(key);
  loadRecords().catch(showError);
}

function toggleSelected(key, on) {
  if (on) state.selected.add(key);
  else state.selected.delete(key);
  updateSelectionButtons();
}

function updateSelectionButtons() {
  $('#replay-selected').disabled = state.selected.size === 0;
  $('#park-selected').disabled = state.selected.size === 0;
  $('#select-all').checked = state.records.length > 0 && state.selected.size === state.records.length;
}

const selectedPositions = () => [...state.selected].map((key) => ({ partition: Number(key.split(':')[0]), offset: key.split(':')[1] }));
$('#topic-filter').addEventListener('input', () => loadTopics().catch(showError));
$('#select-all').addEventListener('change', (e) => {
  state.selected = new Set(e.target.checked ? state.records.map((r) => positionKey(r.position)) : []);
  loadRecords().catch(showError);
});
$('#replay-selected').addEventListener('click', () => confirmAction('replay', { positions: selectedPositions() }, `${state.selected.size} selected record(s)`));
$('#park-selected').addEventListener('click', () => confirmAction('park', { positions: selectedPositions() }, `${state.selected.size} selected record(s)`));
$('#replay-all').addEventListener('click', () => confirmAction('replay', {}, `every record of ${state.topic}`));

// ---- confirmation: the dry run says what goes where; then the job, with its progress
let pending = null;
async function confirmAction(kind, selection, label) {
  const reason = $('#park-reason').value.trim();
  const request = { topic: state.topic, kind, selection, ...(kind === 'park' ? { reason } : {}) };
  const dialog = $('#confirm');
  $('#confirm-title').textContent = `${kind === 'replay' ? 'Replay' : 'Park'} ${label}?`;
  $('#confirm-body').replaceChildren(el('p', { class: 'muted', text: 'Working out what goes where…' }));
  $('#confirm-progress').textContent = '';
  $('#confirm-go').disabled = true;
  pending = null;
  if (!dialog.open) dialog.showModal();
  try {
    const preview = await api('/api/actions/preview', request);
    const routes = Object.entries(preview.destinations);
    $('#confirm-body').replaceChildren(...[
      routes.length === 0 ? el('p', { text: 'Nothing to do: no record matches (already parked, or already replayed by this same selection).' }) : null,
      ...routes.map(([topic, count]) => el('div', { class: 'route' }, `${count} record(s) → `, el('span', { class: 'code destination', text: topic }))),
      kind === 'replay' && routes.length > 0 ? el('p', { class: 'muted', text: 'A group’s replay topic is read by that consumer group only: other groups of the source topic do not see these records again.' }) : null,
      kind === 'park' ? el('p', { class: 'muted', text: `Reason recorded: “${reason}”. Parked records leave this list and are not replayed from it.` }) : null,
    ].filter(Boolean));
    pending = routes.length > 0 ? request : null;
    $('#confirm-go').disabled = pending === null;
    $('#confirm-go').textContent = kind === 'replay' ? 'Replay' : 'Park';
  } catch (error) {
    $('#confirm-body').replaceChildren(el('p', { class: 'error', text: error.message }));
  }
}

$('#confirm-go').addEventListener('click', async () => {
  if (!pending) return;
  const request = pending;
  pending = null;
  $('#confirm-go').disabled = true;
  try {
    let job = await api('/api/actions/run', request);
    while (job.state === 'running') {
      $('#confirm-progress').textContent = `scanned ${job.progress.scanned}, matched ${job.progress.matched}, sent ${job.progress.sent}…`;
      await new Promise((resolve) => setTimeout(resolve, 400));
      job = await api(`/api/jobs/${job.id}`);
    }
    $('#confirm-progress').textContent = job.state === 'done' ? `Done: ${job.result.sent} record(s) ${request.kind === 'replay' ? 'replayed' : 'parked'}.` : `Failed: ${job.error}`;
    $('#confirm-progress').className = job.state === 'done' ? 'done' : 'error';
  } catch (error) {
    $('#confirm-progress').textContent = `Failed: ${error.message}`;
  }
  await Promise.all([loadTopics(), state.topic ? loadRecords() : null]).catch(showError);
});
$('#confirm-cancel').addEventListener('click', () => $('#confirm').close());

// ---- lag
const COLORS = ['#1f4e79', '#c55a11', '#2d7d46', '#7030a0', '#a4262c', '#0f7b8a', '#8a5a00'];

function chart(series, measure, unit) {
  const width = 520, height = 180, left = 44, bottom = 20;
  // From the oldest sample (at most 10 minutes back, at least one), so a young console's chart is not a sliver.
  const samples = Object.values(series).flat();
  const now = Date.now(), span = Math.min(10 * 60_000, Math.max(60_000, now - Math.min(now, ...samples.map((s) => s.at))));
  const points = samples.map(measure).filter((v) => v !== null);
  const max = Math.max(1, ...points);
  const x = (at) => left + ((at - (now - span)) / span) * (width - left - 4);
  const y = (v) => 4 + (1 - v / max) * (height - bottom - 8);
  const lines = Object.entries(series).map(([group, samples], i) =>
    svg('polyline', { fill: 'none', stroke: COLORS[i % COLORS.length], 'stroke-width': 2, 'data-group': group,
      points: samples.filter((s) => measure(s) !== null).map((s) => `${x(s.at).toFixed(1)},${y(measure(s)).toFixed(1)}`).join(' ') }));
  const ticks = [0, max / 2, max].map((v) => svg('text', { x: 2, y: y(v) + 3, text: `${Math.round(v * 10) / 10}${unit}` }));
  const ago = (ms) => (span >= 120_000 ? `-${Math.round(ms / 60_000)}m` : `-${Math.round(ms / 1000)}s`);
  const minutes = [span, span / 2, 0].map((ms) => svg('text', { x: Math.min(width - 24, x(now - ms) - 12), y: height - 4, text: ms === 0 ? 'now' : ago(ms) }));
  const legend = el('div', { class: 'legend' }, ...Object.keys(series).map((group, i) => {
    const item = el('span', { text: group });
    item.style.setProperty('--swatch', COLORS[i % COLORS.length]);
    return item;
  }));
  return [svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img' },
    svg('line', { x1: left, y1: y(0), x2: width, y2: y(0), stroke: '#d8dee6' }), ...ticks, ...minutes, ...lines), legend];
}

async function loadLag() {
  const lag = await api('/api/lag');
  $('#lag-sampled').textContent = lag.sampledAt ? `Last sample ${when(new Date(lag.sampledAt).toISOString())}.` : 'No sample yet.';
  if (lag.error) showError(`lag: ${lag.error}`);
  $('#lag-chart-time').replaceChildren(...chart(lag.history, (s) => (s.timeLagMs === null ? null : s.timeLagMs / 1000), 's'));
  $('#lag-chart-offset').replaceChildren(...chart(lag.history, (s) => s.offsetLag, ''));
  const rows = [];
  for (const group of lag.groups) {
    const total = group.partitions.reduce((sum, p) => sum + p.offsetLag, 0);
    const times = group.partitions.map((p) => p.timeLagMs);
    rows.push(el('tr', { class: 'total', 'data-group': group.groupId },
      el('td', { class: 'code', text: group.groupId }), el('td', { text: group.state }), el('td', { text: `${group.partitions.length} partition(s)` }), el('td', {}),
      el('td', { class: 'num group-lag', text: total }), el('td', { class: 'num', text: duration(times.includes(null) ? null : Math.max(0, ...times)) })));
    for (const p of group.partitions) {
      rows.push(el('tr', {}, el('td', {}), el('td', {}), el('td', { class: 'code', text: p.topic }), el('td', { class: 'num', text: p.partition }),
        el('td', { class: 'num', text: p.offsetLag }), el('td', { class: 'num', text: duration(p.timeLagMs) })));
    }
  }
  $('#lag-table tbody').replaceChildren(...rows);
}

// ---- schemas
async function loadSubjects() {
  const select = $('#subject');
  if (select.options.length > 1) return;
  const subjects = await api('/api/schemas/subjects');
  select.append(...subjects.map((s) => el('option', { value: s, text: s })));
}

$('#subject').addEventListener('change', async (e) => {
  const subject = e.target.value;
  if (!subject) return $('#schema-history').replaceChildren();
  try {
    const history = await api(`/api/schemas/history?subject=${encodeURIComponent(subject)}`);
    $('#schema-history').replaceChildren(...history.versions.slice().reverse().map((v) => {
      const changes = v.changesFromPrevious;
      const list = changes === null ? el('p', { class: 'muted', text: 'First version.' })
        : changes.error ? el('p', { class: 'error', text: changes.error })
        : changes.length === 0 ? el('p', { class: 'muted', text: 'No change from the previous version.' })
        : el('ul', { class: 'changes' }, ...changes.map((c) => el('li', { class: `change-${c.change}`, text: `${c.change === 'added' ? '+' : c.change === 'removed' ? '-' : '~'} ${c.path || '(type)'}: ${c.detail}` })));
      return el('div', { class: 'version', 'data-version': v.version }, el('h3', { text: `Version ${v.version}` }), list,
        el('details', {}, el('summary', { text: 'Schema' }), el('pre', { text: JSON.stringify(JSON.parse(v.schema), null, 2) })));
    }));
  } catch (error) {
    showError(error);
  }
});

// ---- start
async function refresh() {
  try {
    await loadTopics();
    if (state.topic && !$('#confirm').open) await loadRecords();
    if (!$('#tab-lag').hidden) await loadLag();
    showError(null);
  } catch (error) {
    showError(error);
  }
}
api('/api/info').then((info) => ($('#endpoint').textContent = `Kafka ${info.brokers.join(', ')} · registry ${info.registry}`)).catch(showError);
document.querySelector('.tab[data-tab="lag"]').addEventListener('click', () => loadLag().catch(showError));
refresh();
setInterval(refresh, 3000);
