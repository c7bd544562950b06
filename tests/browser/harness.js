/*
 * harness.js: what the browser tests share. TAP version 13 output (report,
 * check, plan), assertions, waiting for a state instead of sleeping, and
 * the private stack (tools/stack: real nginx + chatd in a temporary
 * directory, kept with its logs when a check failed) with Debian's
 * chromium driven by playwright-core. chat.test.js, client.test.js and
 * lint.test.js require it.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const TOP = path.resolve(process.env.TOP_SRCDIR || path.join(__dirname, '..', '..'));
const CHROMIUM = '/usr/bin/chromium';
const WAIT = 15000;

/* ---- TAP ---- */

let count = 0;
let failures = 0;

/* One test point; diag (on failure) goes out as comment lines. */
function report(ok, name, diag) {
	count++;
	console.log(`${ok ? 'ok' : 'not ok'} ${count} - ${name}`);
	if (!ok) {
		failures++;
		/* Playwright's messages may carry terminal colours. */
		const text = String(diag || '').replace(/\x1b\[[0-9;]*m/g, '').trimEnd();
		for (const line of text.split('\n'))
			console.log(`# ${line}`);
	}
}

/* Run one check: it passes unless fn throws. */
async function check(name, fn) {
	try {
		await fn();
		report(true, name);
	} catch (e) {
		const text = e && e.stack ? e.stack : String(e);
		report(false, name, text.split('\n').slice(0, 10).join('\n'));
	}
}

/* The plan, last, and the exit status from what failed. */
function plan() {
	console.log(`1..${count}`);
	process.exitCode = failures ? 1 : 0;
}

/* How many checks failed so far. */
function failed() {
	return failures;
}

/* A TAP skip of the whole file: tap-driver.sh counts it as SKIP. */
function skipAll(why) {
	console.log(`1..0 # SKIP ${why}`);
	process.exit(0);
}

function assert(cond, message) {
	if (!cond)
		throw new Error(message);
}

function assertEqual(got, want, what) {
	const g = JSON.stringify(got), w = JSON.stringify(want);
	if (g !== w)
		throw new Error(`${what}: got ${g}, want ${w}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/* Wait until cond() (which may be async) holds, checked every 100 ms. */
async function waitUntil(cond, what, ms) {
	const end = Date.now() + (ms || WAIT);
	for (;;) {
		if (await cond())
			return;
		if (Date.now() > end)
			throw new Error(`timed out: ${what}`);
		await sleep(100);
	}
}

/*
 * A person's page: who = { page, errors, allowed, dialogs }. Console
 * errors go to who.errors unless expected(text, msg) or one of
 * who.allowed (regexps) says they are the point of a check; page errors
 * always do; dialogs are counted and dismissed.
 */
function watchPage(who, expected) {
	who.page.on('console', (msg) => {
		if (msg.type() !== 'error')
			return;
		const text = msg.text();
		if (expected(text, msg) || who.allowed.some((re) => re.test(text)))
			return;
		who.errors.push(`console: ${text}`);
	});
	who.page.on('pageerror', (err) => who.errors.push(`pageerror: ${err.message}`));
	who.page.on('dialog', (dialog) => {
		who.dialogs++;
		dialog.dismiss().catch(() => {});
	});
}

/* ---- the stack and the browser ---- */

let stackDir = null;

/* Start a stack with chatd's options; its URL. */
function startStack(prefix, chatdOptions) {
	const env = Object.assign({}, process.env);
	/* A relative CHATD is relative to where we were started. */
	if (env.CHATD)
		env.CHATD = path.resolve(env.CHATD);
	stackDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	execFileSync(path.join(TOP, 'tools', 'stack'),
	    ['start', stackDir, '--', ...chatdOptions],
	    { env, stdio: ['ignore', process.stderr, 'pipe'] });
	return fs.readFileSync(path.join(stackDir, 'url'), 'utf8').trim();
}

/* The running stack's directory, or null. */
function stackDirectory() {
	return stackDir;
}

/* Stop the stack; keep its directory (logs) if anything failed. */
function stopStack() {
	if (!stackDir)
		return;
	const dir = stackDir;
	stackDir = null;
	try {
		execFileSync(path.join(TOP, 'tools', 'stack'), ['stop', dir],
		    { stdio: ['ignore', process.stderr, process.stderr] });
	} catch (e) {
		console.log(`# tools/stack stop failed: ${e.message}`);
	}
	if (failures === 0)
		fs.rmSync(dir, { recursive: true, force: true });
	else
		console.log(`# stack logs kept in ${dir}`);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
	process.on(sig, () => {
		stopStack();
		process.exit(1);
	});

/*
 * The whole run of a browser test: TAP's header, a stack (url from
 * CHATD_URL instead, if set), chromium, scenario(browser, url), then
 * everything stopped and the plan. A scenario that throws is one failed
 * check.
 */
async function runInBrowser(prefix, chatdOptions, scenario) {
	let chromium, browser = null, url;

	try {
		chromium = require('playwright-core').chromium;
	} catch (e) {
		skipAll('playwright-core not found (npm ci in tests/browser)');
	}
	console.log('TAP version 13');
	try {
		url = process.env.CHATD_URL ? process.env.CHATD_URL.replace(/\/+$/, '') :
		    startStack(prefix, chatdOptions);
		report(true, `stack started at ${url}`);
	} catch (e) {
		report(false, 'stack started', e.stderr ? String(e.stderr) : e.message);
		stopStack();
		plan();
		return;
	}
	try {
		browser = await chromium.launch({
			executablePath: CHROMIUM, headless: true,
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			    '--disable-background-networking', '--disable-component-update', '--disable-sync']
		});
		await scenario(browser, url);
	} catch (e) {
		report(false, 'the browser runs the scenario', e.stack || String(e));
	} finally {
		if (browser)
			await browser.close().catch(() => {});
		stopStack();
	}
	plan();
}

module.exports = {
	TOP, WAIT, report, check, plan, failed, skipAll, assert, assertEqual, sleep,
	waitUntil, watchPage, stackDirectory, runInBrowser
};
