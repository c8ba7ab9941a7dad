/* ptc web: the pages over the JSON API (docs/web.md).  Plain JavaScript,
 * no library, no inline script (the Content-Security-Policy forbids it). */
'use strict';

const S = { user: null, role: null, csrf: null, back: null };
const main = document.getElementById('main');
const PAGE = 100;                       /* table rows shown at once */

/* ---- helpers ------------------------------------------------------------ */

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false)
    el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

let uid = 0;
function field(label, input, errKey) {
  const id = input.id || (input.id = 'f' + (++uid));
  const err = h('p', { class: 'err', id: id + '-err', hidden: true, 'data-err': errKey || '' });
  input.setAttribute('aria-describedby', err.id);
  return h('div', {}, h('label', { for: id, text: label }), input, err);
}

function showErrors(form, errors) {
  for (const e of form.querySelectorAll('.err')) { e.hidden = true; e.textContent = ''; }
  const rest = [];
  for (const e of errors) {
    const el = form.querySelector(`[data-err="${CSS.escape(e.field)}"]`);
    if (el) { el.textContent = e.message; el.hidden = false; } else rest.push(e);
  }
  const box = form.querySelector('.formmsg');
  if (box) {
    box.replaceChildren(...rest.map(e => h('p', { class: 'err', text: (e.line ? `line ${e.line}: ` : '') + e.message })));
    box.hidden = !rest.length;
  }
  const first = form.querySelector('.err:not([hidden])');
  if (first) first.previousElementSibling?.focus();
}

function banner(text, action) {
  const b = document.getElementById('banner');
  if (!text) { b.hidden = true; b.replaceChildren(); return; }
  b.replaceChildren(h('span', { text: text + ' ' }), action || '');
  b.hidden = false;
}

async function api(method, path, body, etag) {
  const headers = {};
  if (method !== 'GET' && S.csrf) headers['X-CSRF-Token'] = S.csrf;
  if (etag) headers['If-Match'] = etag;
  let data;
  if (body instanceof Blob || typeof body === 'string') data = body;
  else if (body !== undefined) { data = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
  const r = await fetch(path, { method, headers, body: data, credentials: 'same-origin' });
  let json = {};
  const text = await r.text();
  try { json = text ? JSON.parse(text) : {}; } catch (e) { json = { text }; }
  if (r.status === 401 && path !== '/api/login') { S.back = location.hash; go('#/login'); throw new Error('login'); }
  if (r.status === 412) {
    banner('The phone list was changed meanwhile (by someone else, or in a file editor); nothing was written.',
           h('button', { type: 'button', onclick: () => { banner(); route(); }, text: 'Reload' }));
  }
  return { status: r.status, json, headers: r.headers };
}

function go(hash) { if (location.hash !== hash) location.hash = hash; else route(); }
const isAdmin = () => S.role === 'admin';
const when = t => t ? new Date(t).toLocaleString() : '';
const macText = m => m.replace(/(..)(?!$)/g, '$1:');
const normMac = s => s.toLowerCase().replace(/[^0-9a-f]/g, '');

/* ---- log in ----------------------------------------------------------------- */

function pageLogin() {
  document.getElementById('top').hidden = true;
  const user = h('input', { name: 'user', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p', { class: 'msg bad', role: 'alert', hidden: true });
  const form = h('form', { class: 'login', onsubmit: async ev => {
    ev.preventDefault();
    const r = await api('POST', '/api/login', { user: user.value, password: pass.value });
    if (r.status !== 200) {
      msg.textContent = r.status === 429 ? r.json.error : 'Wrong user or password.';
      msg.hidden = false;
      pass.value = '';
      pass.focus();
      return;
    }
    session(r.json);
    go(S.back && S.back !== '#/login' ? S.back : '#/phones');
  } }, h('h1', { text: 'Log in to ptc' }), field('User', user), field('Password', pass), msg,
     h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Log in' })));
  main.replaceChildren(form);
  user.focus();
}

function session(j) {
  S.user = j.user; S.role = j.role; S.csrf = j.csrf;
  document.getElementById('top').hidden = false;
  document.getElementById('who').textContent = `${j.user} (${j.role})`;
}

/* ---- phones ----------------------------------------------------------------- */

const P = { list: null, tmpl: [], status: {}, q: '', sort: 'ext1', dir: 1, page: 0, sel: new Set() };

async function loadPhones() {
  const [ph, tp, st] = await Promise.all([api('GET', '/api/phones'), api('GET', '/api/templates'),
                                          api('GET', '/api/status')]);
  P.list = ph.json;
  P.tmpl = tp.json.templates || [];
  P.status = {};
  for (const s of st.json.phones || []) P.status[s.mac] = s;
}

const menuName = name => (P.tmpl.find(t => t.name === name) || {}).menu_name || name;

const padNum = v => /^\d+$/.test(v) ? v.padStart(12, '0') : v.toLowerCase();

/* The value a column sorts by: numbers in numeric order, text without case. */
function sortKey(p) {
  const k = P.sort, line = i => p.lines[i] || {};
  if (/^ext\d$/.test(k)) return padNum(line(k[3] - 1).ext || '');
  if (/^cid\d$/.test(k)) return (line(k[3] - 1).cid_name || '').toLowerCase();
  switch (k) {
    case 'mac': return p.mac;
    case 'template': return menuName(p.template).toLowerCase();
    case 'account': return (p.lines[0].account || '').toLowerCase();
    case 'password': return p.lines[0].password_set ? '1' : '0';
    case 'enabled': return p.enabled ? '1' : '0';
    case 'fetch': return ((P.status[p.mac] || {}).last_fetch || {}).time || '';
    case 'status': return (P.status[p.mac] || {}).state || 'never';
    default: return padNum(p.lines[0].ext);
  }
}

function matches(p, q) {
  if (!q) return true;
  const m = normMac(q);
  if (m.length >= 2 && p.mac.includes(m)) return true;
  const hay = [p.template, menuName(p.template), p.mac_text,
               ...p.lines.flatMap(l => [l.ext, l.cid_name, l.account])].join(' ').toLowerCase();
  return hay.includes(q.toLowerCase());
}

function visiblePhones() {
  const v = P.list.phones.filter(p => matches(p, P.q));
  v.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0) * P.dir);
  return v;
}

function badge(mac) {
  const s = P.status[mac];
  const state = s ? s.state : 'never';
  const text = { ok: 'current', stale: 'stale', never: 'never fetched' }[state];
  return h('span', { class: 'badge ' + state, text });
}

async function pagePhones() {
  await loadPhones();
  const n = P.list.lines_shown || 2;
  const search = h('input', { type: 'search', value: P.q, oninput: () => { P.q = search.value; P.page = 0; draw(); } });
  const count = h('span', { class: 'count', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const pager = h('div', { class: 'pager' });
  const thead = h('thead');
  const sortBtn = (key, text) => h('th', { 'aria-sort': P.sort === key ? (P.dir > 0 ? 'ascending' : 'descending') : null },
    h('button', { type: 'button', text, onclick: () => { P.dir = P.sort === key ? -P.dir : 1; P.sort = key; heads(); draw(); } }));
  function heads() {
    const th = [h('th', {}, h('span', { class: 'sr', text: 'Select' })), sortBtn('template', 'Template'), sortBtn('mac', 'MAC')];
    for (let i = 1; i <= n; i++) th.push(sortBtn(`ext${i}`, `Extension ${i}`), sortBtn(`cid${i}`, `CallerID name ${i}`));
    th.push(sortBtn('account', 'Account'), sortBtn('password', 'Password'), sortBtn('enabled', 'Enabled'),
            sortBtn('fetch', 'Last fetch'), sortBtn('status', 'Status'), h('th', { text: 'Actions' }));
    thead.replaceChildren(h('tr', {}, th));
  }
  const bulk = ['Disable', 'Enable', 'Delete'].map(what => h('button', { type: 'button', class: 'plain', text: what,
    onclick: () => bulkChange(what) }));
  function draw() {
    const v = visiblePhones();
    const pages = Math.max(1, Math.ceil(v.length / PAGE));
    P.page = Math.min(P.page, pages - 1);
    count.textContent = `${v.length} of ${P.list.phones.length} phones` + (P.sel.size ? `, ${P.sel.size} selected` : '');
    tbody.replaceChildren(...v.slice(P.page * PAGE, (P.page + 1) * PAGE).map(p => row(p, n)));
    pager.replaceChildren(
      h('button', { type: 'button', class: 'plain', text: 'Previous', disabled: P.page === 0, onclick: () => { P.page--; draw(); } }),
      h('span', { text: `Page ${P.page + 1} of ${pages}` }),
      h('button', { type: 'button', class: 'plain', text: 'Next', disabled: P.page >= pages - 1, onclick: () => { P.page++; draw(); } }));
    for (const b of bulk) b.disabled = !P.sel.size;
  }
  function row(p, n) {
    const st = P.status[p.mac];
    const box = h('input', { type: 'checkbox', 'aria-label': `Select ${p.mac_text}`, checked: P.sel.has(p.mac),
      onchange: () => { box.checked ? P.sel.add(p.mac) : P.sel.delete(p.mac); draw(); } });
    const cells = [h('td', {}, box), h('td', { text: menuName(p.template) }), h('td', { class: 'mono', text: p.mac_text })];
    for (let i = 0; i < n; i++) cells.push(h('td', { text: p.lines[i] ? p.lines[i].ext : '' }),
                                           h('td', { text: p.lines[i] ? p.lines[i].cid_name : '' }));
    const pw = h('td', {}, p.lines[0].password_set ? 'set' : 'not set');
    if (isAdmin()) pw.append(' ', h('button', { type: 'button', class: 'plain', text: 'Reveal',
      'aria-label': `Reveal the password of ${p.mac_text}`, onclick: async () => {
        const r = await api('GET', `/api/phones/${p.mac}?reveal=1`);
        if (r.status === 200) pw.replaceChildren(h('span', { class: 'mono', text: r.json.phone.lines[0].password }));
      } }));
    cells.push(h('td', { text: p.lines[0].account || '(automatic)' }), pw, h('td', { text: p.enabled ? 'yes' : 'no' }),
               h('td', { text: st && st.last_fetch ? when(st.last_fetch.time) : '' }), h('td', {}, badge(p.mac)),
               h('td', {}, isAdmin() ? h('button', { type: 'button', class: 'plain', text: 'Edit',
                 'aria-label': `Edit ${p.mac_text}`, onclick: () => phoneForm(p) }) : ''));
    return h('tr', { class: p.enabled ? null : 'off' }, cells);
  }
  main.replaceChildren(
    h('h1', { text: 'Phones' }),
    h('div', { class: 'toolbar' }, h('div', { class: 'grow' }, field('Search', search)), count),
    isAdmin() ? h('div', { class: 'toolbar' }, h('button', { type: 'button', text: 'Add phone', onclick: () => phoneForm(null) }), ...bulk) : '',
    h('div', { class: 'tablewrap' }, h('table', {}, thead, tbody)), pager);
  heads();
  draw();
}

function phoneForm(p) {
  const n = Math.max(P.list.lines_shown || 2, p ? p.lines.length : 1);
  const tmpl = h('select', { name: 'template' }, P.tmpl.map(t => h('option', { value: t.name, text: t.menu_name || t.name,
    selected: p && p.template === t.name })));
  const mac = h('input', { name: 'mac', value: p ? p.mac_text : '', autocomplete: 'off', spellcheck: 'false' });
  const lines = [];
  const grid = h('div', { class: 'lines' });
  for (let i = 0; i < n; i++) {
    const l = (p && p.lines[i]) || {};
    const ext = h('input', { name: `ext${i + 1}`, value: l.ext || '' });
    const cid = h('input', { name: `cid${i + 1}`, value: l.cid_name || '' });
    lines.push({ ext, cid, l });
    grid.append(field(`Extension ${i + 1}`, ext, `lines[${i}].ext`), field(`CallerID name ${i + 1}`, cid, `lines[${i}].cid_name`));
  }
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'new-password',
                            placeholder: p ? 'empty: unchanged' : 'empty: generated' });
  const acct = h('input', { name: 'account', value: p ? p.lines[0].account : '', placeholder: 'empty: automatic' });
  const dlg = h('dialog', { 'aria-labelledby': 'formtitle' });
  const form = h('form', { method: 'dialog', onsubmit: async ev => {
    ev.preventDefault();
    const body = { template: tmpl.value, mac: mac.value.trim(), enabled: p ? p.enabled : true, lines: [] };
    lines.forEach(({ ext, cid, l }, i) => {
      if (!ext.value.trim() && i > 0) return;
      const line = { ext: ext.value.trim(), cid_name: cid.value.trim(), cid_num: l.cid_num || '', account: i ? (l.account || '') : acct.value.trim() };
      if (i === 0 && pass.value) line.password = pass.value;
      body.lines.push(line);
    });
    const r = p ? await api('PUT', `/api/phones/${p.mac}`, body, P.list.etag) : await api('POST', '/api/phones', body, P.list.etag);
    if (r.status === 200 || r.status === 201) { dlg.close(); dlg.remove(); pagePhones(); return; }
    if (r.status === 412) { dlg.close(); dlg.remove(); return; }
    showErrors(form, r.json.errors || [{ field: '', message: r.json.error || `failed (${r.status})` }]);
  } },
    h('h2', { id: 'formtitle', text: p ? `Edit ${p.mac_text}` : 'Add phone' }),
    field('Template', tmpl, 'template'), field('MAC address', mac, 'mac'), grid,
    h('p', { class: 'err', hidden: true, 'data-err': 'lines' }),
    field('Password', pass, 'lines[0].password'), field('Account', acct, 'lines[0].account'),
    h('div', { class: 'formmsg', hidden: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Save' }),
      h('button', { type: 'button', class: 'plain', text: 'Cancel', onclick: () => { dlg.close(); dlg.remove(); } })));
  dlg.append(form);
  document.body.append(dlg);
  dlg.showModal();
  (p ? lines[0].ext : mac).focus();
}

async function bulkChange(what) {
  const macs = [...P.sel];
  if (what === 'Delete' && !confirm(`Delete ${macs.length} phone${macs.length === 1 ? '' : 's'}?`)) return;
  let etag = P.list.etag;
  for (const m of macs) {
    const p = P.list.phones.find(x => x.mac === m);
    if (!p) continue;
    const r = what === 'Delete' ? await api('DELETE', `/api/phones/${m}`, undefined, etag)
      : await api('PUT', `/api/phones/${m}`, { template: p.template, mac: p.mac_text, enabled: what === 'Enable',
          lines: p.lines.map(l => ({ ext: l.ext, cid_name: l.cid_name, cid_num: l.cid_num, account: l.account })) }, etag);
    if (r.status !== 200) { if (r.status !== 412) banner(`${p.mac_text}: ${(r.json.errors || [r.json])[0].message || r.json.error}`); break; }
    etag = r.json.etag;
  }
  P.sel.clear();
  pagePhones();
}

/* ---- generate --------------------------------------------------------------- */

function fileList(title, files) {
  if (!files.length) return '';
  return h('section', {}, h('h2', { text: `${title} (${files.length})` }), files.map(f => f.diff !== undefined
    ? h('details', {}, h('summary', { class: 'mono', text: f.path }), diffView(f.diff))
    : h('p', { class: 'mono', text: f.path })));
}

function diffView(text) {
  return h('pre', { class: 'diff' }, text.split('\n').map(l => h('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : null, text: l + '\n' })));
}

function errorList(errs) {
  return h('ul', { class: 'msg bad' }, errs.map(e => h('li', { text: (e.file ? `${e.file}:${e.line}:${e.column}: ` : '') + e.message })));
}

async function pageGenerate() {
  const [g, ph] = await Promise.all([api('GET', '/api/generate'), api('GET', '/api/phones')]);
  const last = g.json.last;
  const reload = h('input', { type: 'checkbox', id: 'reload' });
  const out = h('div', { 'aria-live': 'polite' });
  const bar = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Progress' });
  const since = !last ? 'Files were not generated from this list yet.'
    : last.list_etag !== ph.json.etag ? 'The phone list has changed since the last generation.'
    : `The files are up to date with the phone list (generated ${when(last.started)} by ${last.user}).`;
  async function dryRun() {
    out.replaceChildren(h('p', { text: 'Checking…' }));
    const r = await api('POST', '/api/generate', { dry_run: true });
    if (r.status === 409) { out.replaceChildren(h('p', { class: 'msg bad', text: `A generation by ${r.json.user} is running.` })); return; }
    if (r.status !== 200) { out.replaceChildren(h('h2', { text: 'Errors' }), errorList(r.json.errors || [r.json])); return; }
    const j = r.json;
    out.replaceChildren(h('p', { text: `${j.created} to create, ${j.changed} to change, ${j.unchanged} left alone.` }),
      fileList('Would be created', j.files.filter(f => f.change === 'created')),
      fileList('Would change', j.files.filter(f => f.change === 'changed')),
      h('div', { class: 'actions' }, h('button', { type: 'button', text: 'Confirm', onclick: confirmRun })));
  }
  async function confirmRun() {
    bar.hidden = false;
    const poll = setInterval(async () => {
      const s = await api('GET', '/api/generate');
      if (s.json.running && s.json.total) { bar.max = s.json.total; bar.value = s.json.done; }
    }, 300);
    const r = await api('POST', '/api/generate', { reload: reload.checked });
    clearInterval(poll);
    bar.hidden = true;
    if (r.status !== 200) { out.replaceChildren(h('h2', { text: 'Errors' }), errorList(r.json.errors || [r.json])); return; }
    const j = r.json;
    out.replaceChildren(h('p', { class: 'msg good', role: 'status',
      text: `Done: ${j.phones} phones, ${j.created} files created, ${j.changed} changed, ${j.unchanged} unchanged; ${j.rows} table rows` +
            (j.reloaded ? '; Asterisk reloaded.' : '.') }), fileList('Written', j.files));
  }
  main.replaceChildren(h('h1', { text: 'Generate' }), h('p', { text: since }),
    isAdmin() ? h('div', { class: 'toolbar' }, h('label', { class: 'inline', for: 'reload' }, reload, 'Reload dialplan/SIP'),
                  h('button', { type: 'button', text: 'Generate files', onclick: dryRun })) : h('p', { text: 'Only an admin may generate.' }),
    bar, out);
}

/* ---- status ----------------------------------------------------------------- */

function chart(hours) {
  hours = hours && hours.length === 24 ? hours : new Array(24).fill(0);
  const max = Math.max(1, ...hours), W = 480, H = 120, bw = W / 24;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H + 16}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Fetches per hour over the last 24 hours, oldest first: ${hours.join(', ')}`);
  hours.forEach((c, i) => {
    const r = document.createElementNS(svg.namespaceURI, 'rect');
    const bh = Math.round(c / max * H);
    r.setAttribute('x', i * bw + 1); r.setAttribute('y', H - bh); r.setAttribute('width', bw - 2); r.setAttribute('height', bh);
    r.setAttribute('fill', '#0b5cad');
    const t = document.createElementNS(svg.namespaceURI, 'title');
    t.textContent = `${23 - i} h ago: ${c}`;
    r.append(t);
    svg.append(r);
  });
  const axis = document.createElementNS(svg.namespaceURI, 'line');
  axis.setAttribute('x1', 0); axis.setAttribute('x2', W); axis.setAttribute('y1', H + 0.5); axis.setAttribute('y2', H + 0.5);
  axis.setAttribute('stroke', '#5b6470');
  svg.append(axis);
  const text = (x, anchor, s) => {
    const t = document.createElementNS(svg.namespaceURI, 'text');
    t.setAttribute('x', x); t.setAttribute('y', H + 14); t.setAttribute('font-size', 11); t.setAttribute('text-anchor', anchor);
    t.textContent = s;
    svg.append(t);
  };
  text(0, 'start', '24 h ago');
  text(W, 'end', 'now');
  if (!hours.some(c => c)) text(W / 2, 'middle', 'no fetch in the last 24 hours');
  return svg;
}

async function pageStatus() {
  const r = await api('GET', '/api/status');
  const j = r.json;
  const filter = h('select', {}, h('option', { value: '', text: 'All phones' }), h('option', { value: 'never', text: 'Never fetched' }),
                   h('option', { value: 'stale', text: 'Stale' }));
  const tbody = h('tbody');
  const sel = new Set();
  const out = h('div', { 'aria-live': 'polite' });
  async function notify(macs, action) {
    const n = await api('POST', '/api/notify', { macs, action });
    out.replaceChildren(n.status === 200
      ? h('p', { class: 'msg good', text: `${action}: ${n.json.results.filter(x => x.sent).length} sent, ${n.json.failed} failed.` })
      : errorList(n.json.errors || [n.json]));
  }
  function draw() {
    tbody.replaceChildren(...j.phones.filter(p => !filter.value || p.state === filter.value).map(p => {
      const box = h('input', { type: 'checkbox', 'aria-label': `Select ${p.mac_text}`, checked: sel.has(p.mac_text),
        onchange: () => box.checked ? sel.add(p.mac_text) : sel.delete(p.mac_text) });
      const f = p.last_fetch || {};
      return h('tr', {}, h('td', {}, box), h('td', { class: 'mono', text: p.mac_text }), h('td', { text: p.exts.join(', ') }),
        h('td', { text: p.template }), h('td', { text: when(f.time) || 'never' }), h('td', { text: f.addr || '' }),
        h('td', { text: f.firmware || '' }), h('td', {}, badge2(p.state)),
        h('td', {}, isAdmin() ? [h('button', { type: 'button', class: 'plain', text: 'Reload', 'aria-label': `Reload ${p.mac_text}`,
          onclick: () => notify([p.mac_text], 'resync') }), ' ', h('button', { type: 'button', class: 'plain', text: 'Reboot',
          'aria-label': `Reboot ${p.mac_text}`, onclick: () => notify([p.mac_text], 'reboot') })] : ''));
    }));
  }
  filter.addEventListener('change', draw);
  const c = j.counts || { ok: 0, stale: 0, never: 0 };
  main.replaceChildren(h('h1', { text: 'Status' }),
    j.generated ? '' : h('p', { class: 'msg', text: 'No generation yet: press Generate first.' }),
    h('div', { class: 'breakdown' }, h('span', {}, badge2('ok'), ` ${c.ok}`), h('span', {}, badge2('stale'), ` ${c.stale}`),
      h('span', {}, badge2('never'), ` ${c.never}`)),
    h('h2', { text: 'Fetches per hour, last 24 hours' }), chart(j.fetches_by_hour),
    h('div', { class: 'toolbar' }, field('Show', filter),
      isAdmin() ? [h('button', { type: 'button', class: 'plain', text: 'Reload selected', onclick: () => sel.size && notify([...sel], 'resync') }),
                   h('button', { type: 'button', class: 'plain', text: 'Reboot selected', onclick: () => sel.size && notify([...sel], 'reboot') })] : ''),
    out,
    h('div', { class: 'tablewrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['Select', 'MAC', 'Extensions', 'Template', 'Last fetch',
      'Address', 'Firmware', 'Status', 'Actions'].map(t => h('th', { text: t })))), tbody)));
  draw();
}

function badge2(state) {
  return h('span', { class: 'badge ' + state, text: { ok: 'current', stale: 'stale', never: 'never fetched' }[state] });
}

/* ---- settings --------------------------------------------------------------- */

async function pageSettings() {
  const s = (await api('GET', '/api/settings')).json;
  const gw = h('select', { name: 'gw_if' }, h('option', { value: '', text: `rc.conf's (${s.gw_if_default})` }),
    (s.interfaces || []).map(i => h('option', { value: i.name, selected: s.gw_if === i.name,
      text: `${i.name}${i.device && i.device !== i.name ? ' (' + i.device + ')' : ''} ${i.address}` })));
  const lines = h('select', { name: 'lines_shown' }, [1, 2, 3, 4, 5, 6].map(n => h('option', { value: n, text: n, selected: s.lines_shown === n })));
  const saved = h('p', { 'aria-live': 'polite' });
  const form = h('form', { onsubmit: async ev => {
    ev.preventDefault();
    const r = await api('PUT', '/api/settings', { gw_if: gw.value, lines_shown: Number(lines.value) });
    if (r.status === 200) { showErrors(form, []); saved.textContent = 'Saved.'; } else showErrors(form, r.json.errors || []);
  } }, field('Gateway interface', gw, 'gw_if'), field('Lines shown', lines, 'lines_shown'), h('div', { class: 'formmsg', hidden: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Save settings', disabled: !isAdmin() })), saved);
  main.replaceChildren(h('h1', { text: 'Settings' }), form);
  if (!isAdmin()) return;
  main.append(await usersSection(), importSection(),
    h('section', {}, h('h2', { text: 'Export' }), h('a', { class: 'button', href: '/api/export', download: 'massdeployment.conf', text: 'Download the phone list' })));
}

async function usersSection() {
  const u = (await api('GET', '/api/users')).json.users || [];
  const name = h('input', { name: 'newuser', autocomplete: 'off' });
  const pass = h('input', { name: 'newpass', type: 'password', autocomplete: 'new-password' });
  const role = h('select', { name: 'role' }, h('option', { value: 'admin', text: 'admin' }), h('option', { value: 'viewer', text: 'viewer' }));
  const form = h('form', { onsubmit: async ev => {
    ev.preventDefault();
    const r = await api('PUT', `/api/users/${encodeURIComponent(name.value)}`, { password: pass.value, role: role.value });
    if (r.status === 200) pageSettings(); else showErrors(form, r.json.errors || [{ field: '', message: r.json.error }]);
  } }, field('User', name, 'name'), field('Password', pass, 'password'), field('Role', role, 'role'), h('div', { class: 'formmsg', hidden: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Add or change user' })));
  return h('section', {}, h('h2', { text: 'Users' }),
    h('ul', {}, u.map(x => h('li', {}, `${x.name} (${x.role}) `, x.name === S.user ? '' : h('button', { type: 'button', class: 'plain',
      text: 'Remove', 'aria-label': `Remove ${x.name}`, onclick: async () => {
        if (confirm(`Remove the account ${x.name}?`)) { await api('DELETE', `/api/users/${encodeURIComponent(x.name)}`); pageSettings(); }
      } })))), form);
}

function importSection() {
  const file = h('input', { type: 'file', name: 'import', accept: '.conf,.txt,text/plain' });
  const mode = h('select', { name: 'mode' }, h('option', { value: 'merge', text: 'Merge into the list' }),
                 h('option', { value: 'replace', text: 'Replace the list' }));
  const out = h('div', { 'aria-live': 'polite' });
  async function send(dry) {
    if (!file.files[0]) { out.replaceChildren(h('p', { class: 'err', text: 'Choose a file first.' })); return; }
    const etag = (await api('GET', '/api/phones')).json.etag;
    const r = await api('POST', `/api/import?mode=${mode.value}${dry ? '&dry_run=1' : ''}`, file.files[0], etag);
    if (r.status !== 200) { out.replaceChildren(errorList(r.json.errors || [r.json])); return; }
    const j = r.json, text = `${j.added} added, ${j.changed} changed, ${j.removed} removed, ${j.unchanged} unchanged`;
    out.replaceChildren(h('p', { class: dry ? 'msg' : 'msg good', text: dry ? `Check: ${text}.` : `Imported: ${text}.` }),
      dry ? h('button', { type: 'button', text: 'Import', onclick: () => send(false) }) : '');
  }
  return h('section', {}, h('h2', { text: 'Import' }), field('Phone list file', file), field('Mode', mode),
    h('div', { class: 'actions' }, h('button', { type: 'button', text: 'Check import', onclick: () => send(true) })), out);
}

/* ---- the router ------------------------------------------------------------- */

const pages = { '#/phones': pagePhones, '#/generate': pageGenerate, '#/status': pageStatus, '#/settings': pageSettings };

async function route() {
  const hash = pages[location.hash] || location.hash === '#/login' ? location.hash : '#/phones';
  if (hash === '#/login') return pageLogin();
  if (!S.csrf) {
    const r = await fetch('/api/session', { credentials: 'same-origin' });
    if (r.status !== 200) { S.back = hash; return go('#/login'); }
    session(await r.json());
  }
  for (const a of document.querySelectorAll('header nav a')) a.toggleAttribute('aria-current', a.getAttribute('href') === hash) && a.setAttribute('aria-current', 'page');
  try { await pages[hash](); } catch (e) { if (e.message !== 'login') throw e; }
  main.focus();
}

document.getElementById('logout').addEventListener('click', async () => {
  await api('POST', '/api/logout');
  S.csrf = S.user = S.role = null;
  go('#/login');
});
window.addEventListener('hashchange', route);
route();
