// The triekv dashboard: the cluster's state once a second (server-sent events from /api/events),
// charts of requests per second and latency (uPlot), and a key browser over the trie's SCAN.
'use strict';

const HISTORY = 120;
const $ = (id) => document.getElementById(id);
const text = (el, value) => {
  el.textContent = value;
  return el;
};
const el = (tag, attrs = {}, children = []) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c);
  return node;
};
const fmt = (n) => (n === undefined ? '—' : n.toLocaleString('en-US'));

// ---------------------------------------------------------------- charts

const COLORS = ['#58a6ff', '#3fb950', '#d29922', '#f85149', '#bc8cff', '#39c5cf', '#ff7b72'];
const times = [];
const opsSeries = new Map(); // server name -> values
const latencySeries = new Map();
let opsChart;
let latencyChart;
let chartServers = '';

function chartWidth(id) {
  return Math.max(280, $(id).clientWidth || 480);
}

function makeChart(id, names, unit) {
  $(id).textContent = '';
  return new uPlot(
    {
      width: chartWidth(id),
      height: 160,
      scales: { x: { time: true } },
      axes: [
        { stroke: '#8b98a5', grid: { stroke: '#263039' } },
        { stroke: '#8b98a5', grid: { stroke: '#263039' }, size: 60 },
      ],
      series: [
        {},
        ...names.map((name, i) => ({
          label: name,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          value: (_u, v) =>
            v === null || v === undefined ? '—' : `${v.toLocaleString('en-US')} ${unit}`,
        })),
      ],
    },
    [[], ...names.map(() => [])],
    $(id),
  );
}

function pushCharts(state) {
  const names = state.servers.map((s) => s.name);
  const key = names.join('\u0000');
  if (key !== chartServers) {
    chartServers = key;
    opsChart?.destroy();
    latencyChart?.destroy();
    opsChart = makeChart('ops-chart', ['all servers', ...names], '/s');
    latencyChart = makeChart('latency-chart', names, 'ms');
  }
  times.push(state.time / 1000);
  const push = (map, name, value) => {
    if (!map.has(name)) map.set(name, new Array(times.length - 1).fill(null));
    map.get(name).push(value ?? null);
  };
  push(opsSeries, 'all servers', state.opsPerSecond);
  for (const s of state.servers) {
    push(opsSeries, s.name, s.up ? s.opsPerSecond : null);
    push(latencySeries, s.name, s.up ? s.latencyMs : null);
  }
  if (times.length > HISTORY) {
    times.shift();
    for (const values of [...opsSeries.values(), ...latencySeries.values()])
      if (values.length > HISTORY) values.shift();
  }
  const series = (map, list) => list.map((n) => (map.get(n) ?? []).slice(-times.length));
  opsChart.setData([times.slice(), ...series(opsSeries, ['all servers', ...names])]);
  $('ops-chart').dataset.points = String(times.length);
  latencyChart.setData([times.slice(), ...series(latencySeries, names)]);
}

// ---------------------------------------------------------------- state

function render(state) {
  const badge = $('cluster-state');
  badge.className = `badge ${state.state}`;
  text(badge, state.state === 'ok' ? 'cluster ok' : 'degraded: k or more servers down');
  const up = state.servers.filter((s) => s.up).length;
  text(
    $('summary'),
    `k=${state.k} · ${up} of ${state.servers.length} servers up · ${fmt(state.opsPerSecond)} requests/s${
      state.repairInProgress ? ' · repairing' : ''
    }`,
  );
  text($('live'), `updated ${new Date(state.time).toLocaleTimeString()}`);
  const body = $('servers').tBodies[0];
  body.textContent = '';
  for (const s of state.servers) {
    body.append(
      el('tr', { 'data-server': s.name, class: s.member ? '' : 'leaving' }, [
        el('td', {}, [s.name]),
        el('td', {}, [s.address]),
        el('td', { class: `state ${s.up ? 'up' : 'down'}` }, [s.up ? 'up' : 'down']),
        el('td', {}, [s.latencyMs === undefined || !s.up ? '—' : `${s.latencyMs.toFixed(2)} ms`]),
        el('td', {}, [s.up ? fmt(s.keys) : '—']),
        el('td', {}, [s.up ? fmt(s.opsPerSecond) : '—']),
      ]),
    );
  }
  const m = state.membership;
  text(
    $('membership'),
    `${m.members} members · membership ${m.version === undefined ? 'from the server file' : `version ${m.version}`}${
      m.change === undefined ? '' : ` · last change: ${m.change}`
    }${m.rebalancing ? ' · rebalancing' : ''}`,
  );
  const p = m.progress;
  $('progress').hidden = p === undefined;
  if (p !== undefined) {
    text(
      $('progress-text'),
      `${p.phase}: ${fmt(p.scanned)} of ~${fmt(p.total)} entries, ${fmt(p.copied)} copied, ${fmt(p.removed)} removed`,
    );
    $('progress-bar').value = p.total === 0 ? 0 : Math.min(1, p.scanned / p.total);
  }
  pushCharts(state);
}

function connect() {
  const events = new EventSource('/api/events');
  events.onmessage = (e) => render(JSON.parse(e.data));
  events.onerror = () => {
    const badge = $('cluster-state');
    badge.className = 'badge degraded';
    text(badge, 'broker unreachable: retrying');
  };
}

// ---------------------------------------------------------------- key browser

async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error((await res.text()).trim() || `${res.status}`);
  return res.json();
}

let listing = 0;
async function listKeys() {
  const prefix = $('prefix').value;
  const mine = ++listing;
  try {
    const page = await getJson(`/api/keys?prefix=${encodeURIComponent(prefix)}&limit=100`);
    if (mine !== listing) return;
    const list = $('keys');
    list.textContent = '';
    for (const key of page.keys) {
      const button = el('button', { type: 'button', 'data-key': key }, [key]);
      button.addEventListener('click', () => showRecord(key, button));
      list.append(el('li', {}, [button]));
    }
    text(
      $('key-count'),
      page.keys.length === 0
        ? 'no keys'
        : `${page.keys.length}${page.cursor === undefined ? '' : '+'} keys`,
    );
  } catch (error) {
    text($('key-count'), `error: ${error.message}`);
  }
}

async function showRecord(key, button) {
  for (const b of document.querySelectorAll('#keys button.selected'))
    b.classList.remove('selected');
  button?.classList.add('selected');
  const box = $('record');
  try {
    const r = await getJson(`/api/record?key=${encodeURIComponent(key)}`);
    box.textContent = '';
    box.append(
      el('dl', {}, [
        el('dt', {}, ['key']),
        el('dd', {}, [key]),
        el('dt', {}, ['version']),
        el('dd', {}, [r.version ?? '—']),
        el('dt', {}, ['held by']),
        el('dd', { 'data-servers': '' }, [r.servers.join(', ') || '—']),
      ]),
      el('pre', { 'data-record': key }, [r.found ? pretty(r.json) : 'NOT FOUND']),
      ...r.warnings.map((w) => el('p', { class: 'warning' }, [`WARNING: ${w}`])),
    );
  } catch (error) {
    text(box, `error: ${error.message}`);
  }
}

/** Exact JSON (big ints, floats such as 17.0 kept as written) indented, without parsing numbers. */
function pretty(json) {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      out += c;
      if (c === '\\') out += json[++i];
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      if (json[i + 1] === close) {
        out += c + close;
        i++;
      } else out += `${c}\n${'  '.repeat(++depth)}`;
    } else if (c === '}' || c === ']') out += `\n${'  '.repeat(--depth)}${c}`;
    else if (c === ',') out += `,\n${'  '.repeat(depth)}`;
    else if (c === ':') out += ': ';
    else out += c;
  }
  return out;
}

let typing;
$('prefix').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(listKeys, 120);
});
$('query-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('query-result');
  try {
    const r = await getJson(`/api/query?path=${encodeURIComponent($('query').value)}`);
    text(
      out,
      `${r.found ? r.text : 'NOT FOUND'}${r.version === undefined ? '' : `\n(version ${r.version}, from ${r.servers.join(', ')})`}${r.warnings.map((w) => `\nWARNING: ${w}`).join('')}`,
    );
  } catch (error) {
    text(out, `ERROR: ${error.message}`);
  }
});
window.addEventListener('resize', () => {
  opsChart?.setSize({ width: chartWidth('ops-chart'), height: 160 });
  latencyChart?.setSize({ width: chartWidth('latency-chart'), height: 160 });
});

connect();
listKeys();
