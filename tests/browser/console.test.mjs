// The admin console in a real browser: Debian's chromium, headless, driven by
// playwright-core against a running stack (tests/e2e/console.sh starts it).
// An administrator signs in, creates a template and a private account (the
// one-time password is shown and the hand-over bundle downloads), the
// application registers with curl + openssl and creates a vault, and the
// administrator sees it active with its certificate, disables it, sees the
// vault, the dashboard, the audit log and the CA downloads — at 1280x800 and
// at a phone's 390x844, with screenshots.
//
// Environment: CONSOLE_URL, CONSOLE_ADMIN (user:password), CONSOLE_CA (CA PEM
// file for curl), CONSOLE_OUT (a fresh directory for screenshots, downloads
// and the browser profile).
import {chromium} from 'playwright-core';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const URL_ = process.env.CONSOLE_URL;
const [ADMIN_USER, ...rest] = (process.env.CONSOLE_ADMIN || '').split(':');
const ADMIN_PASS = rest.join(':');
const CA = process.env.CONSOLE_CA;
const OUT = process.env.CONSOLE_OUT;
if (!URL_ || !ADMIN_USER || !ADMIN_PASS || !CA || !OUT) {
	console.error('need CONSOLE_URL, CONSOLE_ADMIN, CONSOLE_CA, CONSOLE_OUT');
	process.exit(2);
}
const SHOTS = path.join(OUT, 'screenshots');
const WORK = path.join(OUT, 'work');
fs.mkdirSync(SHOTS, {recursive: true});
fs.mkdirSync(WORK, {recursive: true});

const tag = crypto.randomBytes(4).toString('hex');
let passes = 0, fails = 0;
const problems = [];          // CSP violations and page errors

function ok(cond, what) {
	if (!cond)
		throw new Error(`check failed: ${what}`);
	passes++;
	console.log(`ok - ${what}`);
}

// curl against the stack; returns {status, body}.
function curl(args) {
	const out = execFileSync('curl', ['-sS', '--cacert', CA, '-w', '\n%{http_code}', ...args],
	    {encoding: 'utf8', cwd: WORK});
	const i = out.lastIndexOf('\n');
	return {status: Number(out.slice(i + 1)), body: out.slice(0, i)};
}

function curlJson(method, p, body, extra) {
	return curl(['-X', method, '-H', 'Content-Type: application/json',
	    '--data-binary', JSON.stringify(body), ...extra, URL_ + p]);
}

async function shot(page, name) {
	await page.screenshot({path: path.join(SHOTS, `${name}.png`), fullPage: true});
}

async function text(page, sel) {
	return (await page.locator(sel).first().innerText()).trim();
}

// Waits until the status banner shows text containing `want`.
async function banner(page, want) {
	await page.locator('#msg').filter({hasText: want}).waitFor({timeout: 15000});
}

// No page shows a stray "null" or "undefined" (a left-out control must leave nothing).
async function clean(page, what) {
	const t = await page.locator('main').innerText();
	ok(!/\b(null|undefined)\b/.test(t), `${what}: no stray null or undefined on the page`);
}

async function nav(page, name, h1) {
	await page.click(`#nav a[data-view="${name}"]`);
	await page.locator('main h1').filter({hasText: h1}).waitFor();
	await page.locator('main .loading').waitFor({state: 'detached'});
}

async function signIn(page, user, pass) {
	await page.fill('#login-form input[name=username]', user);
	await page.fill('#login-form input[name=password]', pass);
	await page.click('#login-form button[type=submit]');
}

async function run(ctx) {
	const page = ctx.pages()[0] || await ctx.newPage();
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()))
			problems.push(`console: ${m.text()}`);
	});
	await page.setViewportSize({width: 1280, height: 800});

	// Sign in: a wrong password is refused in words, then the real one works.
	await page.goto(URL_ + '/');
	await page.locator('#login-form').waitFor();
	ok(await page.title() === 'Manager console', 'the console page loads');
	await shot(page, '01-login');
	await signIn(page, ADMIN_USER, 'not-the-password-' + tag);
	await banner(page, 'wrong user name or password');
	ok(await page.locator('#login-form .form-error').isVisible(), 'wrong password shown in the form');
	await shot(page, '02-login-wrong');
	await signIn(page, ADMIN_USER, ADMIN_PASS);
	await page.locator('#count-accounts').waitFor();
	ok(await page.locator('#nav').isVisible(), 'signed in: navigation shown');
	ok((await text(page, '#who-name')) === ADMIN_USER, 'signed in as the admin');
	ok((await text(page, '#who-role')) === 'super_user', 'its role shown: super_user');
	await shot(page, '03-dashboard-empty');

	// A vault template.
	await nav(page, 'templates', 'Vault templates');
	const tplName = `tpl-console-${tag}`;
	await page.fill('#create-template input[name=name]', tplName);
	await page.selectOption('#create-template select[name=kind]', 'vault');
	await page.fill('#create-template input[name=quota_bytes]', '1048576');
	await page.click('#create-template button[type=submit]');
	const tplRow = page.locator('#tpl-list tbody tr').filter({hasText: tplName});
	await tplRow.waitFor();
	const tplId = (await tplRow.locator('td').nth(1).innerText()).trim();
	ok(/^tpl_/.test(tplId), `template created with id ${tplId}`);
	await shot(page, '04-templates');

	// A private account: the one-time password is shown once, with the bundle.
	await nav(page, 'accounts', 'Accounts');
	await page.click('#create-details > summary');
	const accName = `Console app ${tag}`;
	const accUser = `console-${tag}`;
	await page.fill('#create-account input[name=name]', accName);
	await page.fill('#create-account input[name=username]', accUser);
	const accPass = await page.inputValue('#create-account input[name=password]');
	ok(accPass.length >= 12, 'a random temporary password is proposed');
	await page.click('#create-account button[type=submit]');
	await page.locator('#handover').waitFor();
	const accId = await text(page, '#ho-id');
	ok(/^acc_/.test(accId), `account created with id ${accId}`);
	ok((await text(page, '#ho-user')) === accUser, 'hand-over shows the temporary user name');
	ok((await text(page, '#ho-pass')) === accPass, 'hand-over shows the temporary password');
	await page.selectOption('#handover select[name=vault_template_id]', tplId);
	await shot(page, '05-handover');
	const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#ho-download')]);
	const bundleFile = path.join(WORK, dl.suggestedFilename());
	await dl.saveAs(bundleFile);
	const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8'));
	const caPem = curl([URL_ + '/api/v1/ca/certificate']).body;
	ok(bundle.account_id === accId && bundle.username === accUser && bundle.password === accPass,
	    'bundle holds the account ID and the temporary credentials');
	ok(bundle.vault_template_id === tplId, 'bundle holds the template ID');
	ok(process.env.MANAGER_S3_PORT === undefined || process.env.MANAGER_S3_PORT === '0' ||
	    bundle.s3_url === `https://127.0.0.1:${process.env.MANAGER_S3_PORT}`,
	    `bundle names the S3 endpoint (${bundle.s3_url})`);
	ok(bundle.ca_certificate === caPem && /BEGIN CERTIFICATE/.test(caPem),
	    'bundle holds the Manager CA certificate');

	// An API error is shown in words: the same user name again is a conflict.
	await page.fill('#create-account input[name=name]', accName + ' again');
	await page.fill('#create-account input[name=username]', accUser);
	await page.click('#create-account button[type=submit]');
	await page.locator('#create-account .form-error').filter({hasText: '409 conflict'}).waitFor();
	ok(true, 'duplicate user name: "409 conflict" and the message shown');
	await shot(page, '06-create-conflict');

	// Done forgets the password; the list finds the account by search and state.
	await page.click('#ho-done');
	ok(!(await page.content()).includes(accPass), 'the temporary password is gone from the page');
	await page.fill('#acc-search', tag);
	const row = page.locator('#acc-list tbody tr').filter({hasText: accId});
	await row.waitFor();
	ok((await row.locator('[data-state]').getAttribute('data-state')) === 'pending_registration',
	    'new account listed as pending registration');
	await page.selectOption('#acc-state', 'active');
	ok(await row.count() === 0, 'state filter "active" hides it');
	await page.selectOption('#acc-state', 'pending_registration');
	await row.waitFor();
	await shot(page, '07-accounts');

	// The application registers with curl + openssl and creates a vault.
	const key = path.join(WORK, 'app.key'), csr = path.join(WORK, 'app.csr');
	execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
	    '-out', csr, '-subj', `/O=Manager console test/CN=console-app-${tag}`], {stdio: 'ignore'});
	let r = curlJson('POST', `/api/v1/accounts/${accId}/certificates`,
	    {csr: fs.readFileSync(csr, 'utf8')}, ['-u', `${accUser}:${accPass}`]);
	ok(r.status === 201, `registration with the hand-over credentials: 201 (got ${r.status} ${r.body.slice(0, 200)})`);
	const cert = JSON.parse(r.body);
	fs.writeFileSync(path.join(WORK, 'app.pem'), cert.certificate);
	const mtls = ['--cert', path.join(WORK, 'app.pem'), '--key', key];
	const vaultName = `console-${tag}`;
	r = curlJson('POST', '/api/v1/vaults', {name: vaultName, vault_template_id: tplId}, mtls);
	ok(r.status === 201, `vault created by the application: 201 (got ${r.status} ${r.body.slice(0, 200)})`);
	fs.writeFileSync(path.join(WORK, 'obj'), 'hello from the console test\n');
	r = curl(['-X', 'PUT', '--data-binary', '@obj', ...mtls,
	    `${URL_}/api/v1/vaults/${vaultName}/objects/hello.txt`]);
	ok(r.status === 201, `object written: 201 (got ${r.status})`);

	// The account page: active, its certificate, its events.
	await page.selectOption('#acc-state', '');
	await nav(page, 'dashboard', 'Dashboard');
	await nav(page, 'accounts', 'Accounts');
	await page.fill('#acc-search', accId);
	await page.locator('#acc-list tbody tr').filter({hasText: accId}).locator('a').click();
	await page.locator('#acc-state-now [data-state]').waitFor();
	ok((await page.getAttribute('#acc-state-now [data-state]', 'data-state')) === 'active',
	    'account page: active after registration');
	const certRow = page.locator('#account-certs tbody tr').filter({hasText: cert.serial});
	await certRow.waitFor();
	ok((await certRow.innerText()).includes('valid'), 'account page: the certificate, valid');
	await page.locator('#account-events').filter({hasText: 'certificate.issued'}).waitFor();
	ok(true, 'account page: the certificate.issued event');
	// Events as a table in words: time, type, account, details; no JSON.
	const evHead = (await page.locator('#account-events thead th').allInnerTexts()).map((x) => x.trim());
	ok(evHead.join('|') === 'Time|Type|Account|Details', `events table columns (${evHead.join('|')})`);
	const evRow = page.locator('#account-events tbody tr').filter({hasText: 'certificate.issued'});
	ok(await evRow.count() === 1, 'one certificate.issued row');
	const evCells = (await evRow.locator('td').allInnerTexts()).map((x) => x.trim());
	ok(/^\d{4}-\d\d-\d\d \d\d:\d\dZ$/.test(evCells[0]), `event time readable (${evCells[0]})`);
	ok(evCells[2] === accId, 'event row names the account');
	ok(evCells[3].includes(cert.serial) && /valid until \d{4}-/.test(evCells[3]),
	    `event details in words (${evCells[3]})`);
	ok(!/[{}"]/.test(await text(page, '#account-events tbody')), 'no raw JSON in the events table');
	ok(await page.locator('#password-form').count() === 0 && await page.locator('#delete-btn').count() === 0,
	    'registered: no password change, no delete');
	await clean(page, 'super user, account page');
	await shot(page, '08-account-active');

	// Disable it.
	await page.click('#disable-btn');
	await page.locator('#acc-state-now [data-state="disabled"]').waitFor();
	await banner(page, 'disabled');
	ok(true, 'disabled from the account page');
	await page.locator('#account-events').filter({hasText: 'account.disabled'}).waitFor();
	ok(true, 'account page: the account.disabled event');
	ok((await page.locator('#account-events tbody tr').filter({hasText: 'account.disabled'})
	    .innerText()).includes('state now disabled'), 'account.disabled event: "state now disabled"');
	r = curl(['-X', 'PUT', '--data-binary', '@obj', ...mtls,
	    `${URL_}/api/v1/vaults/${vaultName}/objects/hello2.txt`]);
	ok(r.status === 401, `vault I/O of the disabled account refused: 401 (got ${r.status})`);
	await shot(page, '09-account-disabled');
	await nav(page, 'accounts', 'Accounts');
	await page.selectOption('#acc-state', 'disabled');
	await page.locator('#acc-list tbody tr').filter({hasText: accId}).waitFor();
	ok(true, 'listed under the state filter "disabled"');

	// Enable it again from its page.
	await page.goBack();
	await page.locator('#acc-state-now [data-state="disabled"]').waitFor();
	await page.click('#enable-btn');
	await page.locator('#acc-state-now [data-state="active"]').waitFor();
	ok(true, 'enabled again from the account page');
	r = curl(['-X', 'PUT', '--data-binary', '@obj', ...mtls,
	    `${URL_}/api/v1/vaults/${vaultName}/objects/hello2.txt`]);
	ok(r.status === 201, `vault I/O works again once enabled: 201 (got ${r.status})`);
	await page.click('#disable-btn');
	await page.locator('#acc-state-now [data-state="disabled"]').waitFor();

	// A second account, before registration: rename, new temporary password, delete.
	await nav(page, 'accounts', 'Accounts');
	await page.click('#create-details > summary');
	const acc2User = `console2-${tag}`;
	await page.fill('#create-account input[name=name]', `Second ${tag}`);
	await page.fill('#create-account input[name=username]', acc2User);
	const acc2Pass = await page.inputValue('#create-account input[name=password]');
	await page.click('#create-account button[type=submit]');
	await page.locator('#handover').waitFor();
	const acc2Id = await text(page, '#ho-id');
	await page.click('#ho-done');
	await page.fill('#acc-search', acc2Id);
	await page.locator('#acc-list tbody tr').filter({hasText: acc2Id}).locator('a').click();
	await page.locator('#rename-form').waitFor();
	await page.fill('#rename-form input[name=name]', `Renamed ${tag}`);
	await page.click('#rename-form button[type=submit]');
	await page.locator('#acc-name').filter({hasText: `Renamed ${tag}`}).waitFor();
	ok(JSON.parse(curl(['-u', `${ADMIN_USER}:${ADMIN_PASS}`, `${URL_}/api/v1/accounts/${acc2Id}`]).body)
	    .name === `Renamed ${tag}`, 'renamed from the account page');
	await page.fill('#password-form input[name=password]', 'short');
	await page.click('#password-form button[type=submit]');
	ok(await page.$eval('#password-form input[name=password]', (el) => el.validity.tooShort),
	    'a too short temporary password is stopped by the form');
	const acc2Pass2 = `new-temp-password-${tag}`;
	await page.fill('#password-form input[name=password]', acc2Pass2);
	await page.click('#password-form button[type=submit]');
	await banner(page, 'Temporary password changed');
	const csr2 = path.join(WORK, 'app2.csr');
	execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout',
	    path.join(WORK, 'app2.key'), '-out', csr2, '-subj', `/CN=console-app2-${tag}`], {stdio: 'ignore'});
	r = curlJson('POST', `/api/v1/accounts/${acc2Id}/certificates`,
	    {csr: fs.readFileSync(csr2, 'utf8')}, ['-u', `${acc2User}:${acc2Pass}`]);
	ok(r.status === 401, `the old temporary password no longer registers: 401 (got ${r.status})`);
	await shot(page, '16-account-pending');
	await page.click('#delete-btn');
	await page.click('#delete-btn');    // the second click confirms
	await page.locator('main h1').filter({hasText: 'Accounts'}).waitFor();
	await banner(page, 'deleted');
	r = curl(['-u', `${ADMIN_USER}:${ADMIN_PASS}`, `${URL_}/api/v1/accounts/${acc2Id}`]);
	ok(r.status === 404, `deleted from the account page: GET gives 404 (got ${r.status})`);

	// Vaults: metadata only.
	await nav(page, 'vaults', 'Vaults');
	const vRow = page.locator('#vault-list tbody tr').filter({hasText: vaultName});
	await vRow.waitFor();
	ok((await vRow.innerText()).includes(accId), 'vault listed with its owner');
	if (process.env.MANAGER_S3_PORT && process.env.MANAGER_S3_PORT !== '0')
		ok((await text(page, '#vault-s3')).includes(`:${process.env.MANAGER_S3_PORT}/{vault}/{key}`),
		    'the vaults page names the S3 endpoint');
	await shot(page, '10-vaults');

	// Dashboard: counts and the chart.
	await nav(page, 'dashboard', 'Dashboard');
	const accCounts = await text(page, '#count-accounts');
	ok(/\d+\s*disabled/.test(accCounts) && !/\b0\s*disabled/.test(accCounts),
	    'dashboard counts the disabled account');
	const certCounts = await text(page, '#count-certs');
	ok(/[1-9]\d*\s*valid/.test(certCounts), 'dashboard counts the valid certificate');
	ok(!/\b0\s*vaults/.test(await text(page, '#count-vaults')), 'dashboard counts the vault');
	ok(await page.locator('svg.chart rect.bar').count() === 13, 'chart: 13 weekly bars');
	await shot(page, '11-dashboard');

	// Audit log with paging.
	await nav(page, 'audit', 'Audit log');
	await page.locator('#audit-list tbody tr').first().waitFor();
	ok((await page.locator('#audit-list tbody tr').count()) > 0, 'audit records shown');
	ok((await text(page, '#audit-list')).includes(accId), 'the audit log names the account');
	await shot(page, '12-audit');
	if (await page.isEnabled('#audit-next')) {
		await page.click('#audit-next');
		await page.locator('#audit-page').filter({hasText: 'page 2'}).waitFor();
		await page.click('#audit-prev');
		await page.locator('#audit-page').filter({hasText: 'page 1'}).waitFor();
		ok(true, 'audit paging: next and back');
	}

	// Devices: a bad CSR is refused in words; a good one is issued and listed.
	await nav(page, 'devices', 'Devices');
	ok(await page.locator('#create-device').isVisible(), 'super user: the new-device form shown');
	const devName = `console-device-${tag}`;
	await page.fill('#create-device input[name=name]', devName);
	await page.fill('#create-device textarea[name=csr]', 'not a CSR');
	await page.click('#create-device button[type=submit]');
	await page.locator('#create-device .form-error').filter({hasText: '400 invalid_argument'}).waitFor();
	ok(true, 'device with a bad CSR: "400 invalid_argument" shown');
	const devCsr = path.join(WORK, 'dev.csr');
	execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
	    '-nodes', '-keyout', path.join(WORK, 'dev.key'), '-out', devCsr,
	    '-subj', `/O=Manager console test/CN=${devName}`], {stdio: 'ignore'});
	await page.fill('#create-device textarea[name=csr]', fs.readFileSync(devCsr, 'utf8'));
	await page.click('#create-device button[type=submit]');
	await page.locator('#dev-list tbody tr').filter({hasText: devName}).waitFor();
	ok(/BEGIN CERTIFICATE/.test(await text(page, '#dev-issued pre')), 'device certificate shown');
	await clean(page, 'super user, devices');
	await shot(page, '15-devices');

	// Revoke, then delete, each with a second click; the row follows.
	const devRow = () => page.locator('#dev-list tbody tr').filter({hasText: devName});
	await devRow().locator('button', {hasText: 'Revoke'}).click();
	await devRow().locator('button', {hasText: 'Really revoke'}).click();
	await devRow().filter({hasText: 'revoked'}).waitFor();
	ok(true, 'device revoked from the console: listed revoked');
	await shot(page, '15b-device-revoked');
	await devRow().locator('button', {hasText: 'Delete'}).click();
	await devRow().locator('button', {hasText: 'Really delete'}).click();
	await devRow().waitFor({state: 'detached'});
	ok(true, 'revoked device deleted from the console');

	// Administrators: create one, bad input in words, delete with a second click.
	await nav(page, 'admins', 'Administrators');
	ok(await page.locator('#create-admin').isVisible() && await page.locator('#my-password').isVisible(),
	    'super user: the new-administrator and my-password forms shown');
	const admName = `cons-op-${tag}`;
	await page.fill('#create-admin input[name=username]', admName);
	await page.fill('#create-admin input[name=password]', 'short');
	await page.selectOption('#create-admin select[name=role]', 'operator');
	await page.click('#create-admin button[type=submit]');
	await page.locator('#create-admin .form-error').filter({hasText: '400 invalid_argument'}).waitFor();
	ok(true, 'administrator with a short password: "400 invalid_argument" shown');
	await page.fill('#create-admin input[name=password]', 'console-operator-pw');
	await page.click('#create-admin button[type=submit]');
	const admRow = () => page.locator('#admin-list tbody tr').filter({hasText: admName});
	await admRow().filter({hasText: 'operator'}).waitFor();
	ok(true, 'administrator created and listed with its role');
	await shot(page, '15c-admins');
	await admRow().locator('button', {hasText: 'Delete'}).click();
	await admRow().locator('button', {hasText: 'Really delete'}).click();
	await admRow().waitFor({state: 'detached'});
	ok(true, 'administrator deleted from the console');

	// Paged lists: the console follows next_after. Each listing's first
	// page is cut to one item (the stack's own ?limit=1 page, with its
	// cursor); the console must ask for the rest and show everything.
	let afterCalls = 0;
	const cutFirstPage = async (route) => {
		const u = new URL(route.request().url());
		if (u.searchParams.has('after')) {
			afterCalls++;
			return route.continue();
		}
		u.searchParams.set('limit', '1');
		return route.fulfill({response: await route.fetch({url: u.toString()})});
	};
	for (const n of ['page-a', 'page-b']) {
		const c = curlJson('POST', '/api/v1/accounts', {name: `${n}-${tag}`,
		    role: 'vault_provisioner', username: `${n}-${tag}`, password: `temp-password-${tag}`},
		    ['-u', `${ADMIN_USER}:${ADMIN_PASS}`]);
		ok(c.status === 201, `account ${n} for the paging check: 201 (got ${c.status})`);
	}
	const listRe = /\/api\/v1\/(accounts|vaults|vault-templates)(\?[^/]*)?$/;
	await page.route(listRe, cutFirstPage);
	const allAcc = JSON.parse(curl(['-u', `${ADMIN_USER}:${ADMIN_PASS}`,
	    `${URL_}/api/v1/accounts`]).body).accounts;
	const allVaults = JSON.parse(curl(['-u', `${ADMIN_USER}:${ADMIN_PASS}`,
	    `${URL_}/api/v1/vaults`]).body).vaults;
	await nav(page, 'accounts', 'Accounts');
	await page.fill('#acc-search', '');
	await page.selectOption('#acc-state', '');
	await page.locator('#acc-list tbody tr').filter({hasText: allAcc[allAcc.length - 1].id})
	    .waitFor();
	ok(allAcc.length >= 2 && afterCalls > 0 &&
	    (await page.locator('#acc-list tbody tr').count()) === allAcc.length,
	    `accounts in pages of one: all ${allAcc.length} listed (${afterCalls} next pages read)`);
	await nav(page, 'vaults', 'Vaults');
	await page.locator('#vault-list tbody tr').filter({hasText: allVaults[allVaults.length - 1].name})
	    .waitFor();
	ok((await page.locator('#vault-list tbody tr').count()) === allVaults.length,
	    `vaults in pages of one: all ${allVaults.length} listed`);
	const mirrorTpl = curlJson('POST', '/api/v1/vault-templates', {name: `tpl-page-${tag}`,
	    kind: 'mirror'}, ['-u', `${ADMIN_USER}:${ADMIN_PASS}`]);
	ok(mirrorTpl.status === 201, `a second template for the paging check: 201 (got ${mirrorTpl.status})`);
	const allTpl = JSON.parse(curl(['-u', `${ADMIN_USER}:${ADMIN_PASS}`,
	    `${URL_}/api/v1/vault-templates`]).body).templates;
	const before = afterCalls;
	await nav(page, 'templates', 'Vault templates');
	await page.locator('#tpl-list tbody tr').filter({hasText: allTpl[allTpl.length - 1].name})
	    .waitFor();
	ok(allTpl.length >= 2 && afterCalls > before &&
	    (await page.locator('#tpl-list tbody tr').count()) === allTpl.length,
	    `templates in pages of one: all ${allTpl.length} listed`);
	await page.unroute(listRe, cutFirstPage);

	// CA certificate and CRL downloads.
	await nav(page, 'ca', 'Certificate authority');
	const [caDl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-ca')]);
	await caDl.saveAs(path.join(WORK, 'ca-dl.pem'));
	ok(fs.readFileSync(path.join(WORK, 'ca-dl.pem'), 'utf8') === caPem, 'CA certificate download');
	const [crlDl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-crl')]);
	await crlDl.saveAs(path.join(WORK, 'crl.pem'));
	ok(/BEGIN X509 CRL/.test(fs.readFileSync(path.join(WORK, 'crl.pem'), 'utf8')), 'CRL download');
	await shot(page, '13-ca');

	// A phone: nothing wider than the screen.
	await page.setViewportSize({width: 390, height: 844});
	for (const [view, h1, name] of [['dashboard', 'Dashboard', '20-phone-dashboard'],
	    ['accounts', 'Accounts', '21-phone-accounts'], ['vaults', 'Vaults', '23-phone-vaults'],
	    ['audit', 'Audit log', '24-phone-audit']]) {
		await nav(page, view, h1);
		const w = await page.evaluate(() => document.documentElement.scrollWidth);
		ok(w <= 390, `phone: ${view} fits 390 px (scrollWidth ${w})`);
		await shot(page, name);
	}
	await page.goto(`${URL_}/#/accounts/${encodeURIComponent(accId)}`);
	await page.reload();
	await page.locator('#login-form').waitFor();
	ok(true, 'a reload forgets the credentials (memory only)');
	await signIn(page, ADMIN_USER, ADMIN_PASS);
	await page.locator('#account-certs tbody tr').first().waitFor();
	const w = await page.evaluate(() => document.documentElement.scrollWidth);
	ok(w <= 390, `phone: account page fits 390 px (scrollWidth ${w})`);
	await shot(page, '22-phone-account');

	// Roles: the console shows only what the role table lets a role do.
	await page.setViewportSize({width: 1280, height: 800});
	const su = ['-u', `${ADMIN_USER}:${ADMIN_PASS}`];
	const opUser = `op-${tag}`, opPass = `operator-pw-${tag}`;
	const soUser = `so-${tag}`, soPass = `officer-pw-${tag}`;
	r = curlJson('POST', '/api/v1/admins', {username: opUser, password: opPass, role: 'operator'}, su);
	ok(r.status === 201, `an operator for the role checks: 201 (got ${r.status})`);
	r = curlJson('POST', '/api/v1/admins', {username: soUser, password: soPass,
	    role: 'security_officer'}, su);
	ok(r.status === 201, `a security officer for the role checks: 201 (got ${r.status})`);
	const dev2Csr = path.join(WORK, 'dev2.csr');
	const dev2Name = `console-device2-${tag}`;
	execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
	    '-nodes', '-keyout', path.join(WORK, 'dev2.key'), '-out', dev2Csr,
	    '-subj', `/O=Manager console test/CN=${dev2Name}`], {stdio: 'ignore'});
	r = curlJson('POST', '/api/v1/devices', {name: dev2Name, csr: fs.readFileSync(dev2Csr, 'utf8')}, su);
	ok(r.status === 201, `a valid device for the role checks: 201 (got ${r.status})`);
	const dev2Id = JSON.parse(r.body).id;
	const WRITE_WORDS = /^(Create|Delete|Really|Rename|Disable|Enable|Revoke|Issue|Set password|Random|New random)/;
	const writeButtons = async () => (await page.locator('main button').allInnerTexts())
	    .map((x) => x.trim()).filter((x) => WRITE_WORDS.test(x));

	await page.click('#signout');
	await page.locator('#login-form').waitFor();
	await signIn(page, opUser, opPass);
	await page.locator('#count-accounts').waitFor();
	ok((await text(page, '#who-name')) === opUser && (await text(page, '#who-role')) === 'operator',
	    'signed in as the operator, its role shown');
	await nav(page, 'accounts', 'Accounts');
	await page.locator('#acc-list tbody tr').first().waitFor();
	ok(await page.locator('#create-details, #create-account').count() === 0,
	    'operator: no account creation form');
	await page.goto(`${URL_}/#/accounts/${encodeURIComponent(accId)}`);
	await page.locator('#account-events tbody tr').first().waitFor();
	ok(await page.locator('#rename-form, #password-form, #disable-btn, #enable-btn, #delete-btn')
	    .count() === 0, 'operator: no rename, password, disable, enable or delete on an account');
	ok(await page.locator('#read-only-note').isVisible(), 'operator: the account page says read-only');
	ok((await page.locator('#account-events tbody tr').count()) >= 2, 'operator: the events table has rows');
	ok((await writeButtons()).length === 0, `operator: no write button on the account page (${await writeButtons()})`);
	await clean(page, 'operator, account page');
	await shot(page, '30-operator-account');
	await nav(page, 'templates', 'Vault templates');
	await page.locator('#tpl-list tbody tr').first().waitFor();
	ok(await page.locator('#create-template').count() === 0, 'operator: no template form');
	await nav(page, 'devices', 'Devices');
	await page.locator('#dev-list tbody tr').filter({hasText: dev2Name}).waitFor();
	ok(await page.locator('#create-device').count() === 0 && await page.locator('#dev-list button').count() === 0,
	    'operator: devices listed without the new-device form or revoke/delete buttons');
	await clean(page, 'operator, devices');
	await shot(page, '31-operator-devices');
	await nav(page, 'admins', 'Administrators');
	ok(await page.locator('#create-admin').count() === 0 && await page.locator('#admin-list button').count() === 0,
	    'operator: no administrator form or delete buttons');
	ok(await page.locator('#admin-list-note').isVisible(), 'operator: told it does not see the administrators');
	ok((await writeButtons()).length === 0, `operator: no write button on the administrators page (${await writeButtons()})`);
	// The server refuses regardless of what the page shows.
	const op = ['-u', `${opUser}:${opPass}`];
	r = curlJson('POST', `/api/v1/devices/${dev2Id}/revoke`, {}, op);
	ok(r.status === 403 && /permission_denied/.test(r.body), `operator revoking by hand: 403 (got ${r.status})`);
	r = curlJson('POST', '/api/v1/accounts', {name: 'x', role: 'vault_provisioner',
	    username: `opx-${tag}`, password: `temp-password-${tag}`}, op);
	ok(r.status === 403, `operator creating an account by hand: 403 (got ${r.status})`);
	r = curl([...op, '-X', 'DELETE', `${URL_}/api/v1/admins/${soUser}`]);
	ok(r.status === 403, `operator deleting an administrator by hand: 403 (got ${r.status})`);
	const devs = JSON.parse(curl([...su, `${URL_}/api/v1/devices`]).body).devices;
	ok(devs.find((d) => d.id === dev2Id).certificate.status === 'valid', 'the device is still valid');
	// Change my password from the page: the old one stops working at once.
	const opPass2 = `operator-pw2-${tag}`;
	await page.fill('#my-password input[name=current_password]', 'wrong-current-password');
	await page.fill('#my-password input[name=password]', opPass2);
	await page.click('#my-password button[type=submit]');
	await page.locator('#my-password .form-error').filter({hasText: '403'}).waitFor();
	ok(true, 'a wrong current password: 403 shown in the form');
	await page.fill('#my-password input[name=current_password]', opPass);
	await page.fill('#my-password input[name=password]', opPass2);
	await page.click('#my-password button[type=submit]');
	await banner(page, 'Your password is changed');
	await clean(page, 'operator, administrators');
	await shot(page, '32-operator-admins');
	ok(curl(['-u', `${opUser}:${opPass2}`, `${URL_}/api/v1/admins/me`]).status === 200,
	    'the new password works');
	ok(curl(['-u', `${opUser}:${opPass}`, `${URL_}/api/v1/admins/me`]).status === 401,
	    'the old password is refused');
	await nav(page, 'dashboard', 'Dashboard');
	await page.locator('#count-accounts').waitFor();
	ok(!(await text(page, '#msg').catch(() => '')).includes('401'), 'the console goes on with the new password');

	// A security officer: devices and accounts yes, administrators and templates no.
	await page.click('#signout');
	await page.locator('#login-form').waitFor();
	await signIn(page, soUser, soPass);
	await page.locator('#count-accounts').waitFor();
	ok((await text(page, '#who-role')) === 'security_officer', 'signed in as the security officer');
	await nav(page, 'templates', 'Vault templates');
	await page.locator('#tpl-list tbody tr').first().waitFor();
	ok(await page.locator('#create-template').count() === 0, 'security officer: no template form');
	await nav(page, 'admins', 'Administrators');
	await page.locator('#admin-list tbody tr').filter({hasText: opUser}).waitFor();
	ok(await page.locator('#create-admin').count() === 0 && await page.locator('#admin-list button').count() === 0,
	    'security officer: administrators listed without the create form or delete buttons');
	await nav(page, 'devices', 'Devices');
	ok(await page.locator('#create-device').isVisible(), 'security officer: the new-device form');
	const dev2Row = () => page.locator('#dev-list tbody tr').filter({hasText: dev2Name});
	await dev2Row().locator('button', {hasText: 'Revoke'}).click();
	await dev2Row().locator('button', {hasText: 'Really revoke'}).click();
	await dev2Row().filter({hasText: 'revoked'}).waitFor();
	ok(true, 'security officer: revoked a device from the console');
	await clean(page, 'security officer, devices');
	await shot(page, '33-officer-devices');

	// Lockout: too many failed sign-ins for one user name show 429 in words.
	const victim = `nobody-${tag}`;
	let locked = false;
	for (let i = 0; i < 30 && !locked; i++)
		locked = curl(['-u', `${victim}:wrong-password-${i}`, URL_ + '/api/v1/accounts']).status === 429;
	ok(locked, 'the API locks a user name out after failed sign-ins');
	await page.click('#signout');
	await page.locator('#login-form').waitFor();
	await signIn(page, victim, 'wrong-password-again');
	await banner(page, 'locked out');
	ok(true, 'lockout shown in words');
	await page.setViewportSize({width: 1280, height: 800});
	await shot(page, '14-lockout');
}

let ctx;
try {
	ctx = await chromium.launchPersistentContext(path.join(OUT, 'profile'), {
		executablePath: process.env.CONSOLE_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
		ignoreHTTPSErrors: true,
		acceptDownloads: true,
		viewport: {width: 1280, height: 800},
	});
	ctx.setDefaultTimeout(20000);
	await run(ctx);
	ok(problems.length === 0, `no CSP violations or page errors${problems.length ? ': ' + problems.join(' | ') : ''}`);
} catch (e) {
	fails++;
	console.error(`FAIL: ${e.message}`);
	for (const p of problems)
		console.error(`  ${p}`);
	try {
		const page = ctx && ctx.pages()[0];
		if (page) {
			await page.screenshot({path: path.join(SHOTS, '99-failure.png'), fullPage: true});
			console.error(`  banner: ${(await page.locator('#msg').innerText().catch(() => '')).trim()}`);
		}
	} catch (e2) {
		console.error(`  (no failure screenshot: ${e2.message})`);
	}
} finally {
	if (ctx)
		await ctx.close();
}
console.log(`${passes} passed, ${fails} failed`);
process.exit(fails ? 1 : 0);
