// The Manager's admin console: one framework-free ES module. Everything it
// does goes through the public API (API.md) with the administrator's HTTP
// Basic credentials, which live in this module's memory only (a reload asks
// for them again). The DOM is built with textContent, never innerHTML.

const API = '/api/v1';
const DAY_MS = 86400000;
const EXPIRY_WINDOW_DAYS = 30;     // API.md: "expiring within 30 days"
const CHART_WEEKS = 13;            // 13 weeks cover the next 90 days
const CERT_SCAN_MAX = 200;         // accounts whose certificates the dashboard reads
const CERT_SCAN_PARALLEL = 4;
const AUDIT_PAGE = 50;

let creds = null;                  // {user, pass} while signed in
let me = null;                     // GET /admins/me: {username, role, operations}
let viewSeq = 0;                   // drops answers of views already left
let msgKeep = false;               // the banner survives the next page change

// ---------------------------------------------------------------- helpers

class ApiError extends Error {
	constructor(status, code, message, requestId) {
		super(message);
		this.status = status;
		this.code = code;
		this.requestId = requestId || '';
	}
	describe() {
		let s = this.status ? `${this.status} ${this.code}: ${this.message}`
		    : this.message;
		if (this.requestId)
			s += ` (request ${this.requestId})`;
		return s;
	}
}

function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on'))
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.className = v;
		else if (v === true)
			el.setAttribute(k, '');
		else
			el.setAttribute(k, String(v));
	}
	for (const kid of kids.flat()) {
		if (kid === undefined || kid === null || kid === false)
			continue;
		el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
	}
	return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
	const el = document.createElementNS(SVG_NS, tag);
	for (const [k, v] of Object.entries(attrs || {}))
		el.setAttribute(k, String(v));
	for (const kid of kids.flat())
		el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
	return el;
}

function b64utf8(text) {
	const bytes = new TextEncoder().encode(text);
	let bin = '';
	for (const b of bytes)
		bin += String.fromCharCode(b);
	return btoa(bin);
}

async function request(method, path, body, auth) {
	const headers = {Accept: 'application/json'};
	const init = {method, headers, credentials: 'omit', cache: 'no-store'};
	if (auth && creds)
		headers.Authorization = 'Basic ' + b64utf8(`${creds.user}:${creds.pass}`);
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	let resp;
	try {
		resp = await fetch(API + path, init);
	} catch (e) {
		throw new ApiError(0, 'network', `cannot reach the Manager (${e.message})`);
	}
	const text = await resp.text();
	if (!resp.ok) {
		let err = null;
		try {
			err = JSON.parse(text).error;
		} catch (e) {
			err = null;
		}
		const ae = new ApiError(resp.status,
		    (err && err.code) || `http_${resp.status}`,
		    (err && err.message) || text.slice(0, 200) || resp.statusText,
		    (err && err.request_id) || resp.headers.get('X-Request-Id'));
		ae.retryAfter = resp.headers.get('Retry-After');
		throw ae;
	}
	return {resp, text};
}

// An authenticated JSON call; null for an empty (204) answer.
async function api(method, path, body) {
	const {text} = await request(method, path, body, true);
	if (text === '')
		return null;
	try {
		return JSON.parse(text);
	} catch (e) {
		throw new ApiError(0, 'bad_response', `the Manager sent malformed JSON for ${path}`);
	}
}

// Every item of a paged listing (GET /accounts, /vaults, /vault-templates,
// /devices, an account's /certificates):
// follows next_after until the last page, so large systems show in full.
async function apiAll(path, field) {
	let items = [];
	let after = null;
	for (;;) {
		const q = after === null ? '' : `?after=${encodeURIComponent(after)}`;
		const page = (await api('GET', path + q)) || {};
		items = items.concat(page[field] || []);
		if (!page.next_after || page.next_after === after)
			return items;
		after = page.next_after;
	}
}

async function publicText(path) {
	const {text} = await request('GET', path, undefined, false);
	return text;
}

// The S3 endpoint (api/s3.md) on the host this page came from: the gateway
// names its S3 port in a header of the console's files; null when it has
// none (MANAGER_S3_PORT=0).
let s3EndpointCache;
async function s3Endpoint() {
	if (s3EndpointCache !== undefined)
		return s3EndpointCache;
	try {
		const resp = await fetch('/', {credentials: 'omit', cache: 'no-store'});
		const port = resp.headers.get('X-Manager-S3-Port');
		s3EndpointCache = port && /^[0-9]+$/.test(port)
		    ? `https://${location.hostname}:${port}` : null;
	} catch (e) {
		return null; // asked again next time
	}
	return s3EndpointCache;
}

function download(name, text, type) {
	const url = URL.createObjectURL(new Blob([text], {type}));
	const a = h('a', {href: url, download: name, hidden: true});
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function fmtTime(t) {
	if (!t)
		return '—';
	const d = new Date(t);
	if (Number.isNaN(d.getTime()))
		return String(t);
	return d.toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, 'Z');
}

function fmtBytes(n) {
	if (typeof n !== 'number')
		return '—';
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	while (n >= 1024 && i < units.length - 1) {
		n /= 1024;
		i++;
	}
	return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function randomPassword() {
	const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
	const buf = new Uint32Array(20);
	crypto.getRandomValues(buf);
	return Array.from(buf, (x) => chars[x % chars.length]).join('');
}

const STATE_LABEL = {
	pending_registration: 'pending registration',
	active: 'active',
	disabled: 'disabled',
};

function badge(state) {
	return h('span', {class: `badge st-${state}`, 'data-state': state},
	    STATE_LABEL[state] || state);
}

// Whether the signed-in administrator's role may do an operation (its name
// as the role table and the audit say: "account.create"). The list comes
// from the server's role table (GET /admins/me); what it refuses is not
// shown at all. The server checks every request anyway (403).
function can(op) {
	return Boolean(me && me.operations && me.operations.includes(op));
}

// ---------------------------------------------------------------- messages

function flash(kind, text, keep) {
	const box = document.getElementById('msg');
	msgKeep = Boolean(keep);
	box.className = kind;
	box.replaceChildren(h('span', {class: 'msg-text'}, text),
	    h('button', {type: 'button', class: 'link', 'aria-label': 'dismiss',
	        onclick: clearFlash}, '×'));
	box.hidden = false;
}

function clearFlash() {
	const box = document.getElementById('msg');
	box.hidden = true;
	box.replaceChildren();
}

// Shows an error in words. A 401 while signed in means the credentials no
// longer work: back to the sign-in form.
function showError(err, what) {
	const text = err instanceof ApiError ? err.describe() : String(err && err.message || err);
	flash('error', what ? `${what}: ${text}` : text);
	if (err instanceof ApiError && err.status === 401 && creds) {
		creds = null;
		me = null;
		renderLogin('Your credentials were refused; please sign in again.');
	}
}

function errorBox() {
	return h('p', {class: 'form-error', role: 'alert', hidden: true});
}

function setFormError(box, err) {
	if (!err) {
		box.hidden = true;
		box.textContent = '';
		return;
	}
	box.textContent = err instanceof ApiError ? err.describe() : String(err.message || err);
	box.hidden = false;
}

// Runs an action for a form: disables its button, shows errors in words
// both in the form and in the banner.
async function act(form, box, what, fn) {
	const btns = form.querySelectorAll('button');
	btns.forEach((b) => { b.disabled = true; });
	setFormError(box, null);
	try {
		await fn();
	} catch (e) {
		setFormError(box, e);
		showError(e, what);
	} finally {
		btns.forEach((b) => { b.disabled = false; });
	}
}

// ---------------------------------------------------------------- layout

function view(title, ...kids) {
	const main = document.getElementById('view');
	main.replaceChildren(h('h1', {}, title), ...kids);
	return main;
}

function table(cols, rows, empty) {
	if (rows.length === 0)
		return h('p', {class: 'empty'}, empty);
	return h('div', {class: 'table-wrap'},
	    h('table', {},
	        h('thead', {}, h('tr', {}, cols.map((c) => h('th', {scope: 'col'}, c.label)))),
	        h('tbody', {}, rows.map((r) => h('tr', {'data-id': r.id || null},
	            cols.map((c) => h('td', {'data-label': c.label, class: c.cls || null},
	                c.get(r))))))));
}

function field(label, input, hint) {
	return h('label', {class: 'field'}, h('span', {}, label), input,
	    hint ? h('small', {}, hint) : null);
}

function loading() {
	return h('p', {class: 'loading'}, 'Loading…');
}

function setNav(name) {
	for (const a of document.querySelectorAll('#nav a'))
		a.classList.toggle('current', a.dataset.view === name);
}

// ---------------------------------------------------------------- sign in

function renderLogin(note) {
	document.getElementById('nav').hidden = true;
	document.getElementById('who').hidden = true;
	const user = h('input', {name: 'username', autocomplete: 'username', required: true,
	    autocapitalize: 'off', spellcheck: 'false'});
	const pass = h('input', {name: 'password', type: 'password',
	    autocomplete: 'current-password', required: true});
	const box = errorBox();
	const form = h('form', {class: 'card login', id: 'login-form'},
	    h('h1', {}, 'Sign in'),
	    h('p', {class: 'muted'}, 'Manager administrators only.'),
	    field('User name', user), field('Password', pass), box,
	    h('button', {type: 'submit', class: 'primary'}, 'Sign in'));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		act(form, box, 'Sign-in failed', async () => {
			creds = {user: user.value, pass: pass.value};
			try {
				me = await api('GET', '/admins/me');
			} catch (e) {
				creds = null;
				me = null;
				if (e instanceof ApiError && e.status === 401)
					throw new ApiError(401, e.code, 'wrong user name or password', e.requestId);
				if (e instanceof ApiError && e.status === 429)
					throw new ApiError(429, e.code, 'too many failed sign-ins for this ' +
					    'user name: it is locked out for now' +
					    (e.retryAfter ? `; try again in ${e.retryAfter} s` : '') +
					    ` (${e.message})`, e.requestId);
				throw e;
			}
			pass.value = '';
			clearFlash();
			document.getElementById('who-name').textContent = creds.user;
			document.getElementById('who-role').textContent = me.role;
			document.getElementById('nav').hidden = false;
			document.getElementById('who').hidden = false;
			if (!location.hash || location.hash === '#/' || location.hash === '#/login')
				location.hash = '#/dashboard';
			else
				route();
		});
	});
	const main = document.getElementById('view');
	main.replaceChildren(form);
	if (note)
		flash('info', note);
	user.focus();
}

// ---------------------------------------------------------------- dashboard

// Runs fn over items, at most `width` at a time.
async function pool(items, width, fn) {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			await fn(items[i], i);
		}
	};
	await Promise.all(Array.from({length: Math.min(width, items.length)}, worker));
}

function countCard(label, value, cls) {
	return h('div', {class: `count ${cls || ''}`},
	    h('span', {class: 'count-value'}, String(value)),
	    h('span', {class: 'count-label'}, label));
}

function expiryChart(weeks, start) {
	const W = 420, H = 220, L = 28, B = 40, T = 20, R = 4;
	const max = Math.max(1, ...weeks);
	const bw = (W - L - R) / weeks.length;
	const y = (v) => T + (H - T - B) * (1 - v / max);
	const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
	    'aria-label': 'certificates expiring per week over the next 90 days'});
	svg.append(s('title', {}, 'Certificates expiring per week, next 90 days'));
	for (const v of [0, Math.ceil(max / 2), max]) {
		svg.append(s('line', {x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid'}));
		svg.append(s('text', {x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end'}, v));
	}
	weeks.forEach((n, i) => {
		const x = L + i * bw;
		const from = new Date(start + i * 7 * DAY_MS);
		const label = from.toISOString().slice(5, 10);
		const bar = s('rect', {x: x + 3, y: y(n), width: Math.max(1, bw - 6),
		    height: Math.max(0, H - B - y(n)), class: n ? 'bar' : 'bar zero',
		    'data-week': i, 'data-count': n});
		bar.append(s('title', {}, `week of ${label}: ${n} certificate(s)`));
		svg.append(bar);
		if (n)
			svg.append(s('text', {x: x + bw / 2, y: y(n) - 4, class: 'val',
			    'text-anchor': 'middle'}, n));
		if (i % 2 === 0)
			svg.append(s('text', {x: x + bw / 2, y: H - B + 16, class: 'axis',
			    'text-anchor': 'middle'}, label));
	});
	svg.append(s('text', {x: L, y: H - 6, class: 'axis'},
	    'week starting (month-day, UTC)'));
	return svg;
}

async function renderDashboard(seq) {
	setNav('dashboard');
	const main = view('Dashboard', loading());
	const errors = [];
	let accounts = [], vaults = [];
	try {
		accounts = await apiAll('/accounts', 'accounts');
	} catch (e) {
		errors.push(`accounts: ${e.describe ? e.describe() : e.message}`);
	}
	try {
		vaults = await apiAll('/vaults', 'vaults');
	} catch (e) {
		errors.push(`vaults: ${e.describe ? e.describe() : e.message}`);
	}
	const now = Date.now();
	const certs = {valid: 0, expiring: 0, expired: 0, revoked: 0};
	const weeks = new Array(CHART_WEEKS).fill(0);
	const scan = accounts.filter((a) => a.state !== 'pending_registration')
	    .slice(0, CERT_SCAN_MAX);
	let certErrors = 0, firstCertError = '';
	await pool(scan, CERT_SCAN_PARALLEL, async (a) => {
		if (seq !== viewSeq)
			return;
		try {
			const list = await apiAll(
			    `/accounts/${encodeURIComponent(a.id)}/certificates`, 'certificates');
			for (const c of list) {
				const end = Date.parse(c.not_after);
				if (c.status === 'valid') {
					certs.valid++;
					if (end - now <= EXPIRY_WINDOW_DAYS * DAY_MS)
						certs.expiring++;
					const w = Math.floor((end - now) / (7 * DAY_MS));
					if (end >= now && end - now <= 90 * DAY_MS && w < CHART_WEEKS)
						weeks[w]++;
				} else if (c.status === 'expired') {
					certs.expired++;
				} else if (c.status === 'revoked') {
					certs.revoked++;
				}
			}
		} catch (e) {
			certErrors++;
			if (!firstCertError)
				firstCertError = `${a.id}: ${e.describe ? e.describe() : e.message}`;
		}
	});
	if (seq !== viewSeq)
		return;
	if (certErrors)
		errors.push(`certificates of ${certErrors} account(s) could not be read; ` +
		    `first: ${firstCertError}`);
	const byState = {pending_registration: 0, active: 0, disabled: 0};
	for (const a of accounts)
		byState[a.state] = (byState[a.state] || 0) + 1;
	const bytes = vaults.reduce((n, v) => n + (Number(v.bytes_used) || 0), 0);
	const kids = [];
	if (errors.length) {
		flash('error', 'Some numbers are missing — ' + errors.join(' · '));
		kids.push(h('ul', {class: 'form-error'}, errors.map((e) => h('li', {}, e))));
	}
	kids.push(
	    h('section', {class: 'panel'}, h('h2', {}, 'Accounts'),
	        h('div', {class: 'counts', id: 'count-accounts'},
	            countCard('total', accounts.length),
	            countCard('pending registration', byState.pending_registration, 'st-pending_registration'),
	            countCard('active', byState.active, 'st-active'),
	            countCard('disabled', byState.disabled, 'st-disabled'))),
	    h('section', {class: 'panel'}, h('h2', {}, 'Certificates'),
	        h('div', {class: 'counts', id: 'count-certs'},
	            countCard('valid', certs.valid, 'st-active'),
	            countCard(`expiring within ${EXPIRY_WINDOW_DAYS} days`, certs.expiring, 'warn'),
	            countCard('expired', certs.expired, 'st-disabled'),
	            countCard('revoked', certs.revoked, 'st-disabled')),
	        scan.length < accounts.filter((a) => a.state !== 'pending_registration').length
	            ? h('p', {class: 'muted'}, `Counted over the first ${CERT_SCAN_MAX} registered accounts.`)
	            : null),
	    h('section', {class: 'panel'}, h('h2', {}, 'Vaults'),
	        h('div', {class: 'counts', id: 'count-vaults'},
	            countCard('vaults', vaults.length),
	            countCard('stored', fmtBytes(bytes)))),
	    h('section', {class: 'panel', id: 'expiry-chart'},
	        h('h2', {}, 'Certificates expiring per week (next 90 days)'),
	        expiryChart(weeks, now)));
	main.replaceChildren(h('h1', {}, 'Dashboard'), h('div', {class: 'grid'}, kids));
}

// ---------------------------------------------------------------- accounts

async function loadTemplates() {
	return await apiAll('/vault-templates', 'templates');
}

function handoverPanel(acc, password, templates) {
	const vaultSel = h('select', {name: 'vault_template_id'},
	    h('option', {value: ''}, '(none)'),
	    templates.filter((t) => t.kind === 'vault')
	        .map((t) => h('option', {value: t.id}, `${t.name} (${t.id})`)));
	const mirrorSel = h('select', {name: 'mirror_template_id'},
	    h('option', {value: ''}, '(none)'),
	    templates.filter((t) => t.kind === 'mirror')
	        .map((t) => h('option', {value: t.id}, `${t.name} (${t.id})`)));
	if (vaultSel.options.length > 1)
		vaultSel.selectedIndex = 1;
	const box = errorBox();
	const panel = h('section', {class: 'card handover', id: 'handover'},
	    h('h2', {}, 'Hand-over for the application administrator'),
	    h('p', {class: 'warn-text'}, 'The temporary password is shown only now. ' +
	        'Give it to the application administrator together with the bundle; ' +
	        'it is valid for one registration.'),
	    h('dl', {class: 'kv'},
	        h('dt', {}, 'Account ID'), h('dd', {class: 'mono', id: 'ho-id'}, acc.id),
	        h('dt', {}, 'Temporary user name'), h('dd', {class: 'mono', id: 'ho-user'}, acc.username),
	        h('dt', {}, 'Temporary password'), h('dd', {class: 'mono', id: 'ho-pass'}, password)),
	    templates.length === 0
	        ? h('p', {class: 'muted'}, 'No vault templates exist yet: create one under Templates ' +
	            'and change the bundle, or hand the template IDs over later.')
	        : null,
	    field('Vault template', vaultSel), field('Mirror template', mirrorSel), box,
	    h('div', {class: 'actions'},
	        h('button', {type: 'button', class: 'primary', id: 'ho-download', onclick: () => {
	            act(panel, box, 'Bundle', async () => {
	                const ca = await publicText('/ca/certificate');
	                const s3 = await s3Endpoint();
	                const bundle = {
	                    manager_url: location.origin,
	                    s3_url: s3,
	                    account_id: acc.id,
	                    account_name: acc.name,
	                    username: acc.username,
	                    password,
	                    vault_template_id: vaultSel.value || null,
	                    mirror_template_id: mirrorSel.value || null,
	                    ca_certificate: ca,
	                    register: `POST ${location.origin}${API}/accounts/${acc.id}/certificates ` +
	                        'with HTTP Basic (username:password) and {"csr": PEM, "expiration_date"?}',
	                };
	                download(`manager-handover-${acc.id}.json`,
	                    JSON.stringify(bundle, null, 2) + '\n', 'application/json');
	                flash('ok', `Hand-over bundle for ${acc.id} downloaded.`);
	            });
	        }}, 'Download hand-over bundle'),
	        h('button', {type: 'button', id: 'ho-done', onclick: () => {
	            panel.remove();
	            clearFlash();
	        }}, 'Done (forget the password)')));
	return panel;
}

function createAccountForm(onCreated) {
	const name = h('input', {name: 'name', required: true, maxlength: 128});
	const user = h('input', {name: 'username', required: true, pattern: '[A-Za-z0-9._\\-]{3,64}',
	    autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false'});
	const pass = h('input', {name: 'password', required: true, minlength: 12, maxlength: 128,
	    autocomplete: 'new-password'});
	pass.value = randomPassword();    // a property, never an attribute in the DOM
	const role = h('select', {name: 'role'}, h('option', {value: 'vault_provisioner'},
	    'vault_provisioner'));
	const box = errorBox();
	const form = h('form', {class: 'card', id: 'create-account'},
	    h('h2', {}, 'New private account'),
	    field('Name', name),
	    field('Temporary user name', user, '3 to 64 of A–Z a–z 0–9 . _ -'),
	    field('Temporary password', pass, '12 to 128 characters; a random one is filled in'),
	    field('Role', role), box,
	    h('div', {class: 'actions'},
	        h('button', {type: 'submit', class: 'primary'}, 'Create account'),
	        h('button', {type: 'button', onclick: () => { pass.value = randomPassword(); }},
	            'New random password')));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		act(form, box, 'Create account', async () => {
			const password = pass.value;
			const acc = await api('POST', '/accounts', {name: name.value,
			    role: role.value, username: user.value, password});
			let templates = [];
			try {
				templates = await loadTemplates();
			} catch (e) {
				showError(e, 'Templates for the hand-over');
			}
			form.reset();
			pass.value = randomPassword();
			onCreated(acc, password, templates);
		});
	});
	return form;
}

async function renderAccounts(seq) {
	setNav('accounts');
	const main = view('Accounts', loading());
	let accounts;
	try {
		accounts = await apiAll('/accounts', 'accounts');
	} catch (e) {
		if (seq === viewSeq) {
			showError(e, 'Accounts');
			view('Accounts', h('p', {class: 'form-error'}, 'The account list could not be read.'));
		}
		return;
	}
	if (seq !== viewSeq)
		return;
	const q = h('input', {type: 'search', id: 'acc-search', placeholder: 'name, ID or user name',
	    'aria-label': 'search accounts'});
	const st = h('select', {id: 'acc-state', 'aria-label': 'state filter'},
	    h('option', {value: ''}, 'all states'),
	    Object.entries(STATE_LABEL).map(([v, l]) => h('option', {value: v}, l)));
	const list = h('div', {id: 'acc-list'});
	const handover = h('div', {id: 'handover-slot'});
	const draw = () => {
		const needle = q.value.trim().toLowerCase();
		const rows = accounts.filter((a) => (!st.value || a.state === st.value) &&
		    (!needle || [a.name, a.id, a.username].some((x) =>
		        x && String(x).toLowerCase().includes(needle))));
		list.replaceChildren(h('p', {class: 'muted'},
		    `${rows.length} of ${accounts.length} account(s)`),
		    table([
			{label: 'Name', get: (a) => h('a', {href: `#/accounts/${encodeURIComponent(a.id)}`}, a.name)},
			{label: 'ID', cls: 'mono', get: (a) => a.id},
			{label: 'State', get: (a) => badge(a.state)},
			{label: 'User name', cls: 'mono', get: (a) => a.username || '—'},
			{label: 'Created', get: (a) => fmtTime(a.created_at)},
			{label: 'Registered', get: (a) => fmtTime(a.registered_at)},
		    ], rows, accounts.length ? 'No account matches.' : 'No accounts yet.'));
	};
	q.addEventListener('input', draw);
	st.addEventListener('change', draw);
	draw();
	const form = createAccountForm((acc, password, templates) => {
		accounts.push(acc);
		draw();
		handover.replaceChildren(handoverPanel(acc, password, templates));
		flash('ok', `Account ${acc.name} (${acc.id}) created.`);
		handover.scrollIntoView({block: 'start'});
	});
	main.replaceChildren(...[h('h1', {}, 'Accounts'),
	    handover,
	    h('div', {class: 'toolbar'}, q, st),
	    list,
	    can('account.create') ? h('details', {class: 'create', id: 'create-details'},
	        h('summary', {}, 'Create a private account'), form) : null].filter(Boolean));
}

function accountActions(acc, onChange) {
	const id = encodeURIComponent(acc.id);
	const out = [];
	// Rename: allowed before and after registration.
	if (can('account.rename')) {
		const name = h('input', {name: 'name', required: true, value: acc.name, maxlength: 128});
		const box = errorBox();
		const form = h('form', {class: 'card', id: 'rename-form'}, h('h2', {}, 'Rename'),
		    field('Name', name), box,
		    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Rename')));
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			act(form, box, 'Rename', async () => {
				const a = await api('PATCH', `/accounts/${id}`, {name: name.value});
				flash('ok', `Renamed to ${a.name}.`);
				onChange(a);
			});
		});
		out.push(form);
	}
	if (acc.state === 'pending_registration' && can('account.set_password')) {
		const pass = h('input', {name: 'password', required: true, minlength: 12, maxlength: 128,
		    autocomplete: 'new-password'});
		const box = errorBox();
		const form = h('form', {class: 'card', id: 'password-form'},
		    h('h2', {}, 'Change the temporary password'),
		    field('New temporary password', pass, '12 to 128 characters'), box,
		    h('div', {class: 'actions'},
		        h('button', {type: 'submit'}, 'Set password'),
		        h('button', {type: 'button', onclick: () => { pass.value = randomPassword(); }},
		            'Random')));
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			act(form, box, 'Change password', async () => {
				await api('PUT', `/accounts/${id}/password`, {password: pass.value});
				flash('ok', 'Temporary password changed. Hand the new one over; ' +
				    'it is not shown again once you leave this page.');
			});
		});
		out.push(form);
	}
	{
		const box = errorBox();
		const form = h('form', {class: 'card', id: 'state-form'}, h('h2', {}, 'State'));
		const stateOp = acc.state === 'disabled' ? 'account.enable' : 'account.disable';
		const stateBtn = !can(stateOp) ? null : acc.state === 'disabled'
		    ? h('button', {type: 'button', id: 'enable-btn', class: 'primary'}, 'Enable')
		    : h('button', {type: 'button', id: 'disable-btn', class: 'danger'}, 'Disable');
		stateBtn?.addEventListener('click', () => {
			const verb = acc.state === 'disabled' ? 'enable' : 'disable';
			act(form, box, verb, async () => {
				const a = await api('POST', `/accounts/${id}/${verb}`);
				flash('ok', `Account ${a.id} is now ${STATE_LABEL[a.state] || a.state}.`);
				onChange(a);
			});
		});
		form.append(...[h('p', {}, 'Now: ', badge(acc.state)),
		    h('p', {class: 'muted'}, acc.state === 'disabled'
		        ? 'A disabled account cannot authenticate nor use its vaults.'
		        : 'Disabling stops all authentication and vault I/O of the account at once.'),
		    stateBtn ? null : h('p', {class: 'muted', id: 'read-only-note'},
		        `Read-only: the role ${me.role} does not change accounts.`),
		    box, h('div', {class: 'actions'}, stateBtn)].filter(Boolean));
		if (acc.state === 'pending_registration' && can('account.delete')) {
			const del = h('button', {type: 'button', class: 'danger', id: 'delete-btn'}, 'Delete…');
			del.addEventListener('click', () => {
				if (del.dataset.armed !== '1') {
					del.dataset.armed = '1';
					del.textContent = 'Really delete? Click again';
					return;
				}
				act(form, box, 'Delete', async () => {
					await api('DELETE', `/accounts/${id}`);
					flash('ok', `Account ${acc.id} deleted.`, true);
					location.hash = '#/accounts';
				});
			});
			form.querySelector('.actions').append(del);
		}
		out.push(form);
	}
	return out;
}

async function renderAccount(seq, accId) {
	setNav('accounts');
	const main = view('Account', loading());
	const id = encodeURIComponent(accId);
	let acc;
	try {
		acc = await api('GET', `/accounts/${id}`);
	} catch (e) {
		if (seq === viewSeq) {
			showError(e, `Account ${accId}`);
			view('Account', h('p', {class: 'form-error'}, `Account ${accId} could not be read.`),
			    h('p', {}, h('a', {href: '#/accounts'}, '← all accounts')));
		}
		return;
	}
	if (seq !== viewSeq)
		return;
	const details = h('section', {class: 'card', id: 'account-details'});
	const actions = h('div', {class: 'grid'});
	const certs = h('section', {class: 'panel wide', id: 'account-certs'},
	    h('h2', {}, 'Certificates'), loading());
	const events = h('section', {class: 'panel wide', id: 'account-events'},
	    h('h2', {}, 'Events'), loading());
	let loadEvents = null;
	const drawAcc = (a) => {
		if (acc.state !== a.state && loadEvents)
			loadEvents();     // account.disabled / account.enabled
		acc = a;
		details.replaceChildren(h('dl', {class: 'kv'},
		    h('dt', {}, 'ID'), h('dd', {class: 'mono'}, a.id),
		    h('dt', {}, 'Name'), h('dd', {id: 'acc-name'}, a.name),
		    h('dt', {}, 'Role'), h('dd', {}, a.role),
		    h('dt', {}, 'State'), h('dd', {id: 'acc-state-now'}, badge(a.state)),
		    h('dt', {}, 'Temporary user name'), h('dd', {class: 'mono'}, a.username || '— (registered)'),
		    h('dt', {}, 'Created'), h('dd', {}, fmtTime(a.created_at)),
		    h('dt', {}, 'Registered'), h('dd', {}, fmtTime(a.registered_at))));
		actions.replaceChildren(...accountActions(a, drawAcc));
		main.querySelector('h1').textContent = `Account: ${a.name}`;
	};
	main.replaceChildren(h('h1', {}, `Account: ${acc.name}`),
	    h('p', {}, h('a', {href: '#/accounts'}, '← all accounts')),
	    details, actions, certs, events);
	drawAcc(acc);
	try {
		const list = await apiAll(`/accounts/${id}/certificates`, 'certificates');
		certs.replaceChildren(h('h2', {}, 'Certificates'), table([
			{label: 'Serial', cls: 'mono', get: (c) => c.serial},
			{label: 'Subject', get: (c) => c.subject},
			{label: 'Not before', cls: 'nowrap', get: (c) => fmtTime(c.not_before)},
			{label: 'Not after', cls: 'nowrap', get: (c) => fmtTime(c.not_after)},
			{label: 'Status', get: (c) => h('span', {class: `badge cs-${c.status}`}, c.status)},
			{label: 'PEM', get: (c) => h('button', {type: 'button', class: 'link', onclick: () =>
			    download(`${c.serial}.pem`, c.certificate, 'application/x-pem-file')}, 'download')},
		], list, 'No certificates (the account has not registered yet).'));
	} catch (e) {
		showError(e, 'Certificates');
		certs.replaceChildren(h('h2', {}, 'Certificates'),
		    h('p', {class: 'form-error'}, e.describe ? e.describe() : e.message));
	}
	const evList = [];
	const evBody = h('div', {});
	const more = h('button', {type: 'button', id: 'events-more'}, 'Load more');
	let cursor = '';
	loadEvents = async () => {
		more.disabled = true;
		try {
			const q = cursor ? `?after=${encodeURIComponent(cursor)}` : '';
			const page = await api('GET', `/accounts/${id}/events${q}`);
			const got = page.events || [];
			evList.push(...got);
			if (page.next_after)
				cursor = page.next_after;
			else if (got.length)
				cursor = got[got.length - 1].id;
			more.hidden = got.length === 0 || !page.next_after;
			evBody.replaceChildren(eventTable(evList));
		} catch (e) {
			showError(e, 'Events');
			evBody.replaceChildren(h('p', {class: 'form-error'}, e.describe ? e.describe() : e.message));
		} finally {
			more.disabled = false;
		}
	};
	more.addEventListener('click', loadEvents);
	events.replaceChildren(h('h2', {}, 'Events (oldest first)'), evBody, more);
	await loadEvents();
}

// An event's data in words (API.md "Events"), not as JSON.
function eventDetails(ev) {
	const d = ev.data || {};
	const serial = d.serial ? `certificate ${d.serial}` : 'certificate';
	switch (ev.type) {
	case 'certificate.issued':
		return `${serial} issued` + (d.subject ? ` for ${d.subject}` : '') +
		    (d.not_after ? `, valid until ${fmtTime(d.not_after)}` : '');
	case 'certificate.renewed':
		return `${serial} issued` + (d.previous ? ` in place of ${d.previous}` : '') +
		    (d.not_after ? `, valid until ${fmtTime(d.not_after)}` : '');
	case 'certificate.revoked':
		return `${serial} revoked`;
	case 'certificate.expiring':
		return `${serial} expires ${fmtTime(d.not_after)}` +
		    (d.days ? ` (within ${d.days} days)` : '') +
		    (d.superseded_by ? `; already superseded by ${d.superseded_by}`
		        : '; no newer certificate yet');
	case 'certificate.expired':
		return `${serial} expired ${fmtTime(d.not_after)}`;
	case 'account.disabled':
	case 'account.enabled':
		return `account ${ev.type === 'account.disabled' ? 'disabled' : 'enabled'}` +
		    (d.state ? `; state now ${STATE_LABEL[d.state] || d.state}` : '');
	default:
		return Object.entries(d).map(([k, v]) => `${k.replace(/_/g, ' ')}: ` +
		    (v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)))
		    .join(', ');
	}
}

function eventTable(list) {
	return table([
		{label: 'Time', cls: 'nowrap', get: (ev) => fmtTime(ev.time)},
		{label: 'Type', cls: 'mono', get: (ev) => h('span', {class: 'badge ev-type',
		    'data-type': ev.type}, ev.type)},
		{label: 'Account', cls: 'mono', get: (ev) => ev.account_id || '—'},
		{label: 'Details', get: (ev) => eventDetails(ev)},
	], list, 'No events yet.');
}

// ---------------------------------------------------------------- templates

async function renderTemplates(seq) {
	setNav('templates');
	const main = view('Vault templates', loading());
	const list = h('div', {id: 'tpl-list'});
	const draw = async () => {
		try {
			const tpls = await loadTemplates();
			if (seq !== viewSeq)
				return;
			list.replaceChildren(table([
				{label: 'Name', get: (t) => t.name},
				{label: 'ID', cls: 'mono', get: (t) => t.id},
				{label: 'Kind', get: (t) => t.kind},
				{label: 'Quota', get: (t) => t.quota_bytes == null ? 'none'
				    : `${fmtBytes(t.quota_bytes)} (${t.quota_bytes} B)`},
			], tpls, 'No templates yet.'));
		} catch (e) {
			showError(e, 'Templates');
			list.replaceChildren(h('p', {class: 'form-error'}, e.describe ? e.describe() : e.message));
		}
	};
	const name = h('input', {name: 'name', required: true});
	const kind = h('select', {name: 'kind'}, h('option', {value: 'vault'}, 'vault'),
	    h('option', {value: 'mirror'}, 'mirror'));
	const quota = h('input', {name: 'quota_bytes', type: 'number', min: 1, step: 1,
	    inputmode: 'numeric', placeholder: 'no quota'});
	const box = errorBox();
	const form = h('form', {class: 'card', id: 'create-template'}, h('h2', {}, 'New template'),
	    field('Name', name), field('Kind', kind), field('Quota (bytes, optional)', quota), box,
	    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Create template')));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		act(form, box, 'Create template', async () => {
			const body = {name: name.value, kind: kind.value};
			if (quota.value !== '') {
				const n = Number(quota.value);
				if (!Number.isSafeInteger(n) || n < 1)
					throw new Error('the quota must be a whole number of bytes, at least 1');
				body.quota_bytes = n;
			}
			const t = await api('POST', '/vault-templates', body);
			flash('ok', `Template ${t.name} created: ${t.id}`);
			form.reset();
			await draw();
		});
	});
	main.replaceChildren(...[h('h1', {}, 'Vault templates'), list,
	    can('template.create') ? form : null].filter(Boolean));
	await draw();
}

// ---------------------------------------------------------------- vaults

async function renderVaults(seq) {
	setNav('vaults');
	const main = view('Vaults', loading());
	try {
		const vaults = await apiAll('/vaults', 'vaults');
		const s3 = await s3Endpoint();
		if (seq !== viewSeq)
			return;
		main.replaceChildren(h('h1', {}, 'Vaults'),
		    h('p', {class: 'muted'}, 'Locked vaults: metadata only. Their objects belong to ' +
		        'the owning application and are not readable here.'),
		    s3 ? h('p', {class: 'muted', id: 'vault-s3'}, 'Applications also reach their vaults ' +
		        'as S3 buckets (path style, client certificate): ',
		        h('span', {class: 'mono'}, `${s3}/{vault}/{key}`)) : null,
		    h('div', {id: 'vault-list'}, table([
			{label: 'Name', cls: 'mono', get: (v) => v.name},
			{label: 'ID', cls: 'mono', get: (v) => v.id},
			{label: 'Owner', cls: 'mono', get: (v) => h('a',
			    {href: `#/accounts/${encodeURIComponent(v.owner_account_id)}`}, v.owner_account_id)},
			{label: 'Template', cls: 'mono', get: (v) => v.vault_template_id},
			{label: 'Mirror', cls: 'mono', get: (v) => v.mirror_template_id || '—'},
			{label: 'Created', get: (v) => fmtTime(v.created_at)},
			{label: 'Objects', get: (v) => v.object_count},
			{label: 'Stored', get: (v) => fmtBytes(v.bytes_used)},
		    ], vaults, 'No vaults yet.')));
	} catch (e) {
		if (seq !== viewSeq)
			return;
		showError(e, 'Vaults');
		view('Vaults', h('p', {class: 'form-error'}, e.describe ? e.describe() : e.message));
	}
}

// ---------------------------------------------------------------- administrators

// The administrators (super_user, security_officer see the list; an
// operator is told so), creating one (super_user), deleting one with a
// second click, and changing one's own password with the current one.
async function renderAdmins(seq) {
	setNav('admins');
	const main = view('Administrators', loading());
	const list = h('div', {id: 'admin-list'});
	const draw = async () => {
		if (!can('admin.list')) {
			list.replaceChildren(h('p', {class: 'muted', id: 'admin-list-note'},
			    `The role ${me.role} does not see the other administrators.`));
			return;
		}
		try {
			const r = await api('GET', '/admins');
			if (seq !== viewSeq)
				return;
			list.replaceChildren(table([
				{label: 'User name', cls: 'mono', get: (a) => a.username},
				{label: 'Role', get: (a) => a.role},
				{label: 'Created', get: (a) => fmtTime(a.created_at)},
				can('admin.delete') && {label: '', get: (a) => {
					const b = h('button', {type: 'button', class: 'danger small',
					    'data-admin': a.username}, 'Delete…');
					b.addEventListener('click', async () => {
						if (b.dataset.armed !== '1') {
							b.dataset.armed = '1';
							b.textContent = 'Really delete? Click again';
							return;
						}
						b.disabled = true;
						try {
							await api('DELETE', `/admins/${encodeURIComponent(a.username)}`);
							flash('ok', `Administrator ${a.username} deleted.`);
							await draw();
						} catch (e) {
							showError(e, 'Delete administrator');
							b.disabled = false;
						}
					});
					return b;
				}},
			].filter(Boolean), r.admins || [], 'No administrators.'));
		} catch (e) {
			list.replaceChildren(h('p', {class: 'form-error'}, e.describe ? e.describe() : e.message));
		}
	};
	const user = h('input', {name: 'username', required: true, autocomplete: 'off'});
	const pw = h('input', {name: 'password', type: 'password', required: true, autocomplete: 'new-password'});
	const role = h('select', {name: 'role'}, h('option', {value: 'operator'}, 'operator (read-only)'),
	    h('option', {value: 'security_officer'}, 'security_officer (accounts, devices, audit)'),
	    h('option', {value: 'super_user'}, 'super_user (everything)'));
	const box = errorBox();
	const form = h('form', {class: 'card', id: 'create-admin'}, h('h2', {}, 'New administrator'),
	    field('User name', user, '3 to 64 of A-Z a-z 0-9 . _ -'), field('Password', pw, '12 to 128 characters'),
	    field('Role', role), box,
	    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Create')));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		act(form, box, 'Create administrator', async () => {
			const a = await api('POST', '/admins', {username: user.value, password: pw.value, role: role.value});
			flash('ok', `Administrator ${a.username} (${a.role}) created.`);
			form.reset();
			await draw();
		});
	});
	const cur = h('input', {name: 'current_password', type: 'password', required: true, autocomplete: 'current-password'});
	const npw = h('input', {name: 'password', type: 'password', required: true, autocomplete: 'new-password'});
	const pbox = errorBox();
	const pform = h('form', {class: 'card', id: 'my-password'}, h('h2', {}, `My password (${creds.user})`),
	    field('Current password', cur), field('New password', npw, '12 to 128 characters'), pbox,
	    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Change my password')));
	pform.addEventListener('submit', (ev) => {
		ev.preventDefault();
		act(pform, pbox, 'Change password', async () => {
			await api('PUT', `/admins/${encodeURIComponent(creds.user)}/password`,
			    {current_password: cur.value, password: npw.value});
			creds = {user: creds.user, pass: npw.value};
			flash('ok', 'Your password is changed.');
			pform.reset();
		});
	});
	main.replaceChildren(...[h('h1', {}, 'Administrators'),
	    h('p', {class: 'muted', id: 'me-line'}, `Signed in as ${me.username}, role ${me.role}.`),
	    list, can('admin.create') ? form : null,
	    can('admin.set_password') ? pform : null].filter(Boolean));
	await draw();
}

// ---------------------------------------------------------------- devices

async function renderDevices(seq) {
	setNav('devices');
	const main = view('Devices', loading());
	const list = h('div', {id: 'dev-list'});
	const issued = h('div', {id: 'dev-issued'});
	const draw = async () => {
		try {
			const devs = await apiAll('/devices', 'devices');
			if (seq !== viewSeq)
				return;
			list.replaceChildren(table([
				{label: 'Name', get: (d) => d.name},
				{label: 'ID', cls: 'mono', get: (d) => d.id},
				{label: 'Serial', cls: 'mono', get: (d) => (d.certificate && d.certificate.serial) || '—'},
				{label: 'Subject', get: (d) => (d.certificate && d.certificate.subject) || '—'},
				{label: 'Not after', get: (d) => fmtTime(d.certificate && d.certificate.not_after)},
				{label: 'Status', cls: 'nowrap', get: (d) => (d.certificate && d.certificate.status) || '—'},
				(can('device.revoke') || can('device.delete')) &&
				    {label: '', get: (d) => deviceAction(d)},
			].filter(Boolean), devs, 'No devices yet.'));
		} catch (e) {
			showError(e, 'Devices');
			list.replaceChildren(h('p', {class: 'form-error'}, e.describe ? e.describe() : e.message));
		}
	};
	// Revoke a valid device (its certificate in the CRL at once), delete a
	// revoked or expired one (its name and Subject DN become free). Both ask
	// a second click first; operators get 403 and see why.
	const deviceAction = (d) => {
		const st = d.certificate && d.certificate.status;
		const verb = st === 'valid' ? 'Revoke' : 'Delete';
		if (!can(verb === 'Revoke' ? 'device.revoke' : 'device.delete'))
			return '';
		const b = h('button', {type: 'button', class: 'danger small',
		    'data-device': d.id}, `${verb}…`);
		b.addEventListener('click', async () => {
			if (b.dataset.armed !== '1') {
				b.dataset.armed = '1';
				b.textContent = `Really ${verb.toLowerCase()}? Click again`;
				return;
			}
			b.disabled = true;
			try {
				if (verb === 'Revoke')
					await api('POST', `/devices/${d.id}/revoke`);
				else
					await api('DELETE', `/devices/${d.id}`);
				flash('ok', `Device ${d.name} ${verb === 'Revoke' ? 'revoked' : 'deleted'}.`);
				await draw();
			} catch (e) {
				showError(e, `${verb} device`);
				b.disabled = false;
			}
		});
		return b;
	};
	const name = h('input', {name: 'name', required: true});
	const csr = h('textarea', {name: 'csr', required: true, rows: 8, spellcheck: 'false',
	    placeholder: '-----BEGIN CERTIFICATE REQUEST-----'});
	const box = errorBox();
	const form = h('form', {class: 'card', id: 'create-device'}, h('h2', {}, 'New device'),
	    field('Name', name), field('CSR (PEM)', csr, 'the Subject DN must not be held by anyone else'),
	    box, h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Issue certificate')));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		act(form, box, 'Create device', async () => {
			const d = await api('POST', '/devices', {name: name.value, csr: csr.value});
			flash('ok', `Device ${d.name} created: ${d.id}`);
			const pem = (d.certificate && d.certificate.certificate) || '';
			issued.replaceChildren(h('section', {class: 'card'},
			    h('h2', {}, `Certificate of ${d.name}`),
			    h('pre', {class: 'pem'}, pem),
			    h('button', {type: 'button', onclick: () =>
			        download(`${d.id}.pem`, pem, 'application/x-pem-file')}, 'Download PEM')));
			form.reset();
			await draw();
		});
	});
	main.replaceChildren(...[h('h1', {}, 'Devices'), issued, list,
	    can('device.create') ? form : null].filter(Boolean));
	await draw();
}

// ---------------------------------------------------------------- audit

async function renderAudit(seq) {
	setNav('audit');
	const main = view('Audit log', loading());
	const cursors = [''];              // cursors[i] opens page i
	let page = 0;
	const body = h('div', {id: 'audit-list'});
	const info = h('span', {class: 'muted', id: 'audit-page'});
	const prev = h('button', {type: 'button', id: 'audit-prev'}, '← Previous');
	const next = h('button', {type: 'button', id: 'audit-next'}, 'Next →');
	const load = async (n) => {
		prev.disabled = next.disabled = true;
		try {
			const q = `?limit=${AUDIT_PAGE}` +
			    (cursors[n] ? `&after=${encodeURIComponent(cursors[n])}` : '');
			const res = await api('GET', `/audit${q}`);
			if (seq !== viewSeq)
				return;
			const recs = res.records || [];
			page = n;
			const after = res.next_after || (recs.length ? recs[recs.length - 1].id : null);
			if (after && recs.length)
				cursors[n + 1] = after;
			else
				cursors.length = n + 1;
			info.textContent = `page ${n + 1} · ${recs.length} record(s)`;
			body.replaceChildren(table([
				{label: 'Time', cls: 'nowrap', get: (r) => fmtTime(r.time)},
				{label: 'Actor', get: (r) => r.actor_kind ? `${r.actor || '—'} (${r.actor_kind})`
				    : (r.actor || '—')},
				{label: 'Action', cls: 'mono', get: (r) => r.action},
				{label: 'Target', cls: 'mono', get: (r) => r.target || '—'},
				{label: 'Outcome', get: (r) => h('span',
				    {class: `badge ${r.outcome === 'ok' ? 'oc-ok' : 'oc-bad'}`}, r.outcome || '—')},
				{label: 'Detail', cls: 'small', get: (r) => r.detail || ''},
				{label: 'Request', cls: 'mono small', get: (r) => r.request_id || ''},
			], recs, n ? 'No more records.' : 'No audit records yet.'));
			prev.disabled = n === 0;
			next.disabled = !(cursors.length > n + 1 && recs.length);
		} catch (e) {
			showError(e, 'Audit log');
			body.replaceChildren(h('p', {class: 'form-error'}, e.describe ? e.describe() : e.message));
			prev.disabled = page === 0;
			next.disabled = false;
		}
	};
	prev.addEventListener('click', () => load(Math.max(0, page - 1)));
	next.addEventListener('click', () => load(page + 1));
	main.replaceChildren(h('h1', {}, 'Audit log'),
	    h('div', {class: 'toolbar'}, prev, next, info), body);
	await load(0);
}

// ---------------------------------------------------------------- CA

function renderCa() {
	setNav('ca');
	const pem = h('pre', {class: 'pem', id: 'ca-pem'}, '');
	const box = errorBox();
	const get = (path, file) => async () => {
		const wrap = document.getElementById('ca-actions');
		await act(wrap, box, `Download ${file}`, async () => {
			const text = await publicText(path);
			download(file, text, 'application/x-pem-file');
			flash('ok', `${file} downloaded.`);
			if (file === 'manager-ca.pem')
				pem.textContent = text;
		});
	};
	view('Certificate authority',
	    h('p', {}, 'The Manager CA signs every client and device certificate. ' +
	        'Applications need its certificate (the "manager ca-cert"); ' +
	        'relying parties need the CRL to refuse revoked certificates.'),
	    h('form', {class: 'actions', id: 'ca-actions'},
	        h('button', {type: 'button', class: 'primary', id: 'dl-ca',
	            onclick: get('/ca/certificate', 'manager-ca.pem')}, 'Download CA certificate'),
	        h('button', {type: 'button', id: 'dl-crl', onclick: get('/ca/crl', 'manager-crl.pem')},
	            'Download CRL')),
	    box, pem);
}

// ---------------------------------------------------------------- router

function route() {
	const seq = ++viewSeq;
	if (!creds) {
		renderLogin();
		return;
	}
	const parts = (location.hash.replace(/^#\/?/, '') || 'dashboard').split('/');
	const run = {
		dashboard: () => renderDashboard(seq),
		accounts: () => parts[1] ? renderAccount(seq, decodeURIComponent(parts[1]))
		    : renderAccounts(seq),
		templates: () => renderTemplates(seq),
		vaults: () => renderVaults(seq),
		devices: () => renderDevices(seq),
		admins: () => renderAdmins(seq),
		audit: () => renderAudit(seq),
		ca: () => renderCa(seq),
	}[parts[0]];
	if (!run) {
		setNav('');
		view('Not found', h('p', {}, `There is no page “${location.hash}”. `,
		    h('a', {href: '#/dashboard'}, 'Dashboard')));
		return;
	}
	Promise.resolve().then(run).catch((e) => showError(e, 'Page'));
}

function signOut() {
	creds = null;
	me = null;
	clearFlash();
	location.hash = '#/';
	renderLogin('Signed out.');
}

window.addEventListener('hashchange', () => {
	// Errors stay until dismissed; other news only for the page it is about.
	if (!msgKeep && document.getElementById('msg').className !== 'error')
		clearFlash();
	msgKeep = false;
	route();
});
window.addEventListener('unhandledrejection', (ev) => showError(ev.reason, 'Unexpected'));
document.getElementById('signout').addEventListener('click', signOut);
route();
