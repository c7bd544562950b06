#!/usr/bin/env node
/*
 * chat.test.js: the browser client (www/) in a real browser, against the
 * real stack. It starts nginx + chatd with tools/stack in a fresh temporary
 * directory, drives Debian's chromium through playwright-core with two
 * people (two browser contexts, so two cookie jars), a third who comes
 * later and a fourth who closes the page and times out, and prints TAP
 * version 13. It exits non-zero if any check fails, and stops the stack
 * whatever happens (the stack's directory, with its logs, is kept after a
 * failure).
 *
 * Run it through tests/browser/run-browser-test (which skips when node,
 * chromium or playwright-core is missing). Environment:
 *   TOP_SRCDIR   the source tree (default: two levels above this file)
 *   CHATD        the chatd binary, passed on to tools/stack
 *   CHATD_URL    test an already running stack instead of starting one
 *   NODE_PATH    where playwright-core is (tests/browser/node_modules)
 * Waits are generous (15 s) and event-driven: nothing here depends on
 * timing, only on what the page eventually shows.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
'use strict';

const { WAIT, assert, assertEqual, check, report, runInBrowser, waitUntil, watchPage } =
    require('./harness.js');

const SCREENSHOT = '/tmp/chatd-browser.png';
const XSS = '<img src=x onerror=alert(1)>';
/*
 * Short polls and a short idle timeout, so that a person who closes the
 * page is timed out within the test. The pages still ask for 25 s polls;
 * the server answers them after 4 s, which the idle timeout must exceed.
 */
const IDLE_TIMEOUT = 10;
const CHATD_OPTIONS = ['--poll-max', '4', '--idle-timeout', String(IDLE_TIMEOUT),
    '--rate-limit', '200/10'];	/* the scrollback test posts 60 messages */

/* ---- page helpers ---- */

/*
 * A person: a browser context of their own with one page, and the console
 * errors and page errors seen there. allowed: console errors that are the
 * expected consequence of a check (the browser logs every 4xx answer).
 */
async function person(browser, url, name) {
	const context = await browser.newContext({ viewport: { width: 960, height: 600 } });
	const page = await context.newPage();
	const who = { name, context, page, errors: [], allowed: [], dialogs: 0 };

	/* A page without a session asks for one (GET api/session): 401. */
	watchPage(who, (text, msg) => /\/api\/session$/.test(msg.location().url || '') &&
	    /status of 401/.test(text));
	await page.goto(url + '/');
	return who;
}

async function login(who, nick) {
	await who.page.waitForSelector('#login-form', { state: 'visible', timeout: WAIT });
	await who.page.fill('#nick', nick);
	await who.page.press('#nick', 'Enter');
}

/* Type a line into the send form and press Enter, as a person would. */
async function say(who, text) {
	await who.page.fill('#text', text);
	await who.page.press('#text', 'Enter');
}

/* The element of the event of this type whose text contains s. */
function eventLocator(who, type, s) {
	return who.page.locator(`#messages .event.${type}`, { hasText: s });
}

async function waitEvent(who, type, s) {
	const loc = eventLocator(who, type, s).first();
	await loc.waitFor({ state: 'attached', timeout: WAIT });
	return loc;
}

/* Wait until #users lists exactly these nicks and #user-count says so. */
async function waitUsers(who, nicks) {
	const want = nicks.slice().sort().join(',');
	try {
		await who.page.waitForFunction((w) => {
			const got = Array.prototype.map.call(
			    document.querySelectorAll('#users li'),
			    (li) => li.textContent).sort().join(',');
			const n = document.getElementById('user-count').textContent;
			return got === w && n === String(w.split(',').length);
		}, want, { timeout: WAIT });
	} catch (e) {
		const got = await who.page.evaluate(() => ({
			users: Array.prototype.map.call(
			    document.querySelectorAll('#users li'),
			    (li) => li.textContent),
			count: document.getElementById('user-count').textContent
		}));
		throw new Error(`${who.name}: users ${JSON.stringify(got)}, ` +
		    `want [${want}] (${e.message.split('\n')[0]})`);
	}
}

/* How many events of this type contain s. */
function copies(who, type, s) {
	return eventLocator(who, type, s).count();
}

/* The text of the part sel (.from, .text, .time) of an event. */
async function part(ev, sel) {
	return (await ev.locator(sel).textContent()).trim();
}

/* Every event in #messages as {id, cls, text}. */
function events(who) {
	return who.page.$$eval('#messages .event', (els) => els.map((el) => ({
		id: el.getAttribute('data-id'), cls: el.className, text: el.textContent
	})));
}

async function assertNoDuplicates(who) {
	const evs = await events(who);
	const ids = evs.map((e) => e.id);
	assert(ids.every((id) => /^\d+$/.test(id)), `${who.name}: an event without a numeric data-id`);
	assertEqual(new Set(ids).size, ids.length, `${who.name}: distinct event ids`);
	const sorted = ids.map(Number).slice().sort((a, b) => a - b);
	assertEqual(ids.map(Number).join(','), sorted.join(','), `${who.name}: events in id order`);
}

/* Log in with a nick the server refuses; the server's message is shown. */
async function refusedLogin(who, nick, status, code) {
	const answer = who.page.waitForResponse((r) => r.url().endsWith('/api/login'), { timeout: WAIT });
	await login(who, nick);
	const res = await answer;
	assertEqual(res.status(), status, 'login status');
	const body = await res.json();
	assertEqual(body.error, code, 'error code');
	assert(body.message, 'the answer has a message');
	await who.page.waitForFunction((m) => document.getElementById('login-error').textContent === m,
	    body.message, { timeout: WAIT });
	assert(await who.page.isHidden('#chat'), 'the chat stays hidden');
}

/* ---- the scenario ---- */

async function scenario(browser, url) {
	let alice, bob, carol, dave, bobSmith;

	await check('alice opens the page and sees the login form', async () => {
		alice = await person(browser, url, 'alice');
		await alice.page.waitForSelector('#login-form', { state: 'visible', timeout: WAIT });
		assert(await alice.page.isHidden('#chat'), '#chat is hidden before login');
		const label = await alice.page.textContent('label[for="nick"]');
		assert(label && label.trim(), 'the nick field has a label');
	});

	await check('alice logs in: chat shown, room named, input focused, own join seen', async () => {
		await login(alice, 'alice');
		await alice.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
		assert(await alice.page.isHidden('#login-form'), 'login form hidden');
		assertEqual((await alice.page.textContent('#room-name')).trim(), 'lobby', 'room name');
		await alice.page.waitForFunction(() => document.activeElement &&
		    document.activeElement.id === 'text', null, { timeout: WAIT });
		await waitEvent(alice, 'join', 'alice joined');
		await waitUsers(alice, ['alice']);
	});

	await check('bob logs in and sees alice and himself online', async () => {
		bob = await person(browser, url, 'bob');
		await login(bob, 'bob');
		await bob.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
		await waitUsers(bob, ['alice', 'bob']);
		await waitEvent(bob, 'join', 'bob joined');
	});

	await check('alice sees bob join and the online count rise to 2', async () => {
		await waitEvent(alice, 'join', 'bob joined');
		await waitUsers(alice, ['alice', 'bob']);
	});

	await check('alice sends a message with Enter and bob sees it with nick and time', async () => {
		await say(alice, 'hello from alice');
		const ev = await waitEvent(bob, 'message', 'hello from alice');
		assertEqual(await part(ev, '.from'), 'alice', 'sender');
		assertEqual(await part(ev, '.text'), 'hello from alice', 'text');
		assert(/^\d\d:\d\d$/.test(await part(ev, '.time')), 'time shown as HH:MM');
		assert(/^\d+$/.test(await ev.getAttribute('data-id')), 'data-id is the event id');
		assertEqual(await alice.page.inputValue('#text'), '', 'alice\'s input is cleared');
	});

	await check('bob replies and alice sees it', async () => {
		await say(bob, 'hi alice, bob here');
		const ev = await waitEvent(alice, 'message', 'hi alice, bob here');
		assertEqual(await part(ev, '.from'), 'bob', 'sender');
	});

	await check('each message is shown exactly once on both pages', async () => {
		/* bob's reply came after alice's message: the poll is past it. */
		await waitEvent(alice, 'message', 'hello from alice');
		await waitEvent(bob, 'message', 'hi alice, bob here');
		for (const who of [alice, bob]) {
			assertEqual(await copies(who, 'message', 'hello from alice'), 1,
			    `${who.name}: copies of alice's message`);
			assertEqual(await copies(who, 'message', 'hi alice, bob here'), 1,
			    `${who.name}: copies of bob's reply`);
			await assertNoDuplicates(who);
		}
	});

	await check('markup in a message is shown as literal text, never as HTML', async () => {
		await say(alice, XSS);
		for (const who of [bob, alice]) {
			const ev = await waitEvent(who, 'message', XSS);
			assertEqual(await part(ev, '.text'), XSS, `${who.name}: text`);
			assertEqual(await who.page.locator('#messages img').count(), 0,
			    `${who.name}: img elements in #messages`);
			assertEqual(who.dialogs, 0, `${who.name}: alert dialogs`);
		}
	});

	await check('a private message (/msg) reaches bob and is shown as "alice \u2192 bob"', async () => {
		await say(alice, '/msg bob just between us');
		for (const who of [bob, alice]) {
			const ev = await waitEvent(who, 'private', 'just between us');
			assertEqual(await part(ev, '.from'), 'alice \u2192 bob:',
			    `${who.name}: header`);
			assertEqual(await part(ev, '.text'), 'just between us',
			    `${who.name}: text`);
		}
	});

	await check('a send whose answer is lost is retried with its client_id and shown once', async () => {
		const ids = [];
		bob.allowed.push(/ERR_FAILED/);
		await bob.page.route('**/api/send', async (route) => {
			ids.push(new URLSearchParams(route.request().postData() || '').get('client_id'));
			if (ids.length === 1) {
				/* The server gets it; the page never hears back. */
				await route.fetch();
				await route.abort('failed');
			} else
				await route.continue();
		});
		try {
			await say(bob, 'sent twice, shown once');
			await waitEvent(alice, 'message', 'sent twice, shown once');
			await waitUntil(() => ids.length >= 2, 'bob retries the send');
			assertEqual(ids.length, 2, 'send requests');
			assert(ids[0], 'the send carries a client_id');
			assertEqual(ids[1], ids[0], 'client_id of the retry');
		} finally {
			await bob.page.unroute('**/api/send');
			bob.allowed.pop();
		}
		/* A later message proves the poll is past any duplicate. */
		await say(bob, 'and one more');
		await waitEvent(alice, 'message', 'and one more');
		await waitEvent(bob, 'message', 'and one more');
		for (const who of [alice, bob])
			assertEqual(await copies(who, 'message', 'sent twice, shown once'), 1,
			    `${who.name}: copies`);
		assertEqual(await bob.page.textContent('#send-error'), '', 'no error shown');
	});

	await check('a failed poll is retried with the same cursor and loses nothing', async () => {
		const since = [];
		alice.allowed.push(/ERR_FAILED/);
		await alice.page.route('**/api/poll?*', async (route) => {
			since.push(new URL(route.request().url()).searchParams.get('since'));
			if (since.length === 1)
				await route.abort('failed');
			else
				await route.continue();
		});
		try {
			/* alice's waiting poll answers this; her next one fails. */
			await say(bob, 'before the failure');
			await waitEvent(alice, 'message', 'before the failure');
			await waitUntil(() => since.length >= 2, 'alice polls again after the failure');
			assertEqual(since[1], since[0], 'cursor of the retry');
			await say(bob, 'after the failure');
			await waitEvent(alice, 'message', 'after the failure');
			await assertNoDuplicates(alice);
		} finally {
			await alice.page.unroute('**/api/poll?*');
			alice.allowed.pop();
		}
	});

	/* Images: a 2x2 PNG, made here, and what each page shows of it. */
	const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64');
	const loadedImages = (who) => who.page.evaluate(() =>
	    Array.prototype.filter.call(document.querySelectorAll('#messages .event.image img'),
		(img) => img.complete && img.naturalWidth === 2).length);
	const waitImages = (who, n) => who.page.waitForFunction((want) =>
	    Array.prototype.filter.call(document.querySelectorAll('#messages .event.image img'),
		(img) => img.complete && img.naturalWidth === 2).length >= want, n, { timeout: WAIT });

	await check('alice sends an image and both pages show it, loaded', async () => {
		await alice.page.setInputFiles('#image-file',
		    { name: 'dot.png', mimeType: 'image/png', buffer: PNG });
		await alice.page.click('#image-button');
		await waitImages(bob, 1);
		await waitImages(alice, 1);
		assertEqual(await alice.page.inputValue('#image-file'), '', 'the file input is cleared');
		assertEqual(await alice.page.textContent('#image-error'), '', 'no error shown');
	});

	await check('without FormData (an old browser) the upload goes through the hidden frame', async () => {
		const before = await loadedImages(bob);
		const framed = alice.page.waitForResponse((r) => r.url().endsWith('/api/image?frame=1'),
		    { timeout: WAIT });
		await alice.page.evaluate(() => { window.FormData = undefined; });
		await alice.page.setInputFiles('#image-file',
		    { name: 'dot.png', mimeType: 'image/png', buffer: PNG });
		await alice.page.click('#image-button');
		const res = await framed;
		assertEqual(res.status(), 200, 'the framed upload\'s status');
		await waitImages(bob, before + 1);
		await alice.page.waitForFunction(() => !document.getElementById('image-button').disabled &&
		    document.getElementById('image-file').value === '', null, { timeout: WAIT });
		assertEqual(await alice.page.textContent('#image-error'), '', 'no error shown');
	});

	await check('a file that is not an image shows the server\'s bad_image message', async () => {
		alice.allowed.push(/status of 400/);
		const answer = alice.page.waitForResponse((r) => /\/api\/image(\?|$)/.test(r.url()),
		    { timeout: WAIT });
		await alice.page.setInputFiles('#image-file',
		    { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('<svg></svg>') });
		await alice.page.click('#image-button');
		const res = await answer;
		assertEqual(res.status(), 400, 'status');
		await alice.page.waitForFunction(() => /PNG, JPEG, GIF and WebP/.test(
		    document.getElementById('image-error').textContent), null, { timeout: WAIT });
	});

	/* Post n messages into room from who's page, as its script would. */
	const postMany = (who, room, prefix, n) => who.page.evaluate(async ([r, p, count]) => {
		const csrf = sessionStorage.getItem('chatd').split('\n')[1];
		for (let i = 0; i < count; i++) {
			const res = await fetch('api/send', {
				method: 'POST',
				headers: { 'Content-Type': 'application/x-www-form-urlencoded',
				    'X-CSRF-Token': csrf },
				body: `room=${r}&text=${encodeURIComponent(p + ' ' + i)}`
			});
			if (res.status !== 200)
				throw new Error(`send ${i}: ${res.status}`);
		}
	}, [room, prefix, n]);
	const roomName = (who) => who.page.textContent('#room-name');

	await check('/join shows another room, with its history; "Earlier messages" loads older ones once each', async () => {
		await postMany(bob, 'scroll', 'old', 60);
		/* Once alice has seen a later event, her cursor is past them all. */
		await say(bob, 'after the old ones');
		await waitEvent(alice, 'message', 'after the old ones');
		await say(alice, '/join scroll');
		await alice.page.waitForFunction(() =>
		    document.getElementById('room-name').textContent === 'scroll', null, { timeout: WAIT });
		assertEqual(await alice.page.evaluate(() => location.hash), '#scroll', 'the address names the room');
		await waitEvent(alice, 'message', 'old 59');
		assertEqual(await copies(alice, 'message', 'hello from alice'), 0, 'lobby messages are gone');
		assertEqual(await copies(alice, 'message', /old 0$/), 0, 'the oldest are not shown yet');
		await alice.page.click('#older');
		await waitEvent(alice, 'message', 'old 0');
		await alice.page.waitForFunction(() =>
		    document.getElementById('older').textContent === 'This is the beginning',
		    null, { timeout: WAIT });
		for (let i = 0; i < 60; i++)
			assertEqual(await copies(alice, 'message', new RegExp(`old ${i}$`)), 1, `copies of old ${i}`);
		await assertNoDuplicates(alice);
	});

	await check('each room gets its own messages only', async () => {
		await say(bob, 'lobby only');
		await say(bob, '/join scroll');
		await bob.page.waitForFunction(() =>
		    document.getElementById('room-name').textContent === 'scroll', null, { timeout: WAIT });
		await say(bob, 'hello scroll');
		await waitEvent(alice, 'message', 'hello scroll');
		assertEqual(await copies(alice, 'message', 'lobby only'), 0, 'alice, in scroll, got no lobby message');
		await say(alice, '/join lobby');
		await waitEvent(alice, 'message', 'lobby only');
		assertEqual(await copies(alice, 'message', 'hello scroll'), 0, 'back in the lobby, no scroll message');
		assertEqual(await alice.page.evaluate(() => location.hash), '', 'the lobby has no address of its own');
		await say(bob, '/join lobby');
		await bob.page.waitForFunction(() =>
		    document.getElementById('room-name').textContent === 'lobby', null, { timeout: WAIT });
		await say(bob, 'back in the lobby');
		await waitEvent(alice, 'message', 'back in the lobby');
		assertEqual(await roomName(alice), 'lobby', 'alice is in the lobby');
		await assertNoDuplicates(alice);
		await assertNoDuplicates(bob);
	});

	await check(`screenshot of the happy path in ${SCREENSHOT}`, async () => {
		await alice.page.screenshot({ path: SCREENSHOT });
	});

	await check('a taken nick (any case) shows the server\'s nick_taken message', async () => {
		carol = await person(browser, url, 'carol');
		carol.allowed.push(/status of 409/, /status of 400/);
		await refusedLogin(carol, 'ALICE', 409, 'nick_taken');
	});

	await check('a reserved nick shows the server\'s bad_nick message', async () => {
		await refusedLogin(carol, 'system', 400, 'bad_nick');
	});

	await check('carol logs in later and gets the history once, with her join', async () => {
		await login(carol, 'carol');
		await carol.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
		await waitEvent(carol, 'join', 'carol joined');
		await waitEvent(carol, 'message', 'hi alice, bob here');
		assertEqual(await copies(carol, 'message', 'hello from alice'), 1,
		    'copies of alice\'s message');
		assertEqual(await copies(carol, 'private', 'just between us'), 0,
		    'private messages of others');
		assertEqual(await copies(carol, 'join', 'carol joined'), 1,
		    'copies of her join');
		await assertNoDuplicates(carol);
		await waitUsers(carol, ['alice', 'bob', 'carol']);
	});

	await check('a click on "bob smith" in the list sends a private message to him, not to bob', async () => {
		bobSmith = await person(browser, url, 'bob smith');
		await login(bobSmith, 'bob smith');
		await bobSmith.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
		try {
			await waitUsers(alice, ['alice', 'bob', 'bob smith', 'carol']);
			await alice.page.locator('#users li', { hasText: /^bob smith$/ }).click();
			assertEqual(await alice.page.inputValue('#text'), '/msg bob smith ', 'the input after the click');
			await alice.page.type('#text', 'for bob smith only');
			await alice.page.press('#text', 'Enter');
			const ev = await waitEvent(bobSmith, 'private', 'for bob smith only');
			assertEqual(await part(ev, '.from'), 'alice \u2192 bob smith:', 'header');
			assertEqual(await part(ev, '.text'), 'for bob smith only', 'text');
			await waitEvent(alice, 'private', 'for bob smith only');
			await say(alice, '/msg bob for plain bob');
			await waitEvent(bob, 'private', 'for plain bob');
			assertEqual(await copies(bob, 'private', 'for bob smith only'), 0,
			    'bob\'s copies of the message to bob smith');
		} finally {
			/* Whatever failed, the later checks expect him gone. */
			await bobSmith.page.click('#logout');
			await bobSmith.page.waitForSelector('#login-form', { state: 'visible', timeout: WAIT });
		}
		await waitUsers(alice, ['alice', 'bob', 'carol']);
	});

	await check('bob logs out: back to the login form', async () => {
		await waitUsers(bob, ['alice', 'bob', 'carol']);
		await bob.page.click('#logout');
		await bob.page.waitForSelector('#login-form', { state: 'visible', timeout: WAIT });
		assert(await bob.page.isHidden('#chat'), 'chat hidden');
	});

	await check('alice sees bob leave and the online count drop', async () => {
		await waitEvent(alice, 'leave', 'bob left');
		await waitUsers(alice, ['alice', 'carol']);
	});

	await check('alice reloads the page and is still in, each event once', async () => {
		await alice.page.reload();
		await alice.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
		await waitEvent(alice, 'leave', 'bob left');
		assertEqual(await copies(alice, 'message', 'hello from alice'), 1,
		    'copies of alice\'s message');
		await assertNoDuplicates(alice);
		await say(alice, 'back after a reload');
		await waitEvent(carol, 'message', 'back after a reload');
	});

	if (process.env.CHATD_URL)
		report(true, 'a closed page times out # SKIP not our own stack');
	else await check('dave closes his page and alice sees him time out', async () => {
		dave = await person(browser, url, 'dave');
		await login(dave, 'dave');
		await waitEvent(alice, 'join', 'dave joined');
		await waitUsers(alice, ['alice', 'carol', 'dave']);
		await dave.context.close();
		const loc = eventLocator(alice, 'leave', 'dave left (timeout)').first();
		await loc.waitFor({ state: 'attached', timeout: WAIT + IDLE_TIMEOUT * 1000 });
		await waitUsers(alice, ['alice', 'carol']);
	});

	await check('no console errors or page errors in any page', async () => {
		const errors = [];
		for (const who of [alice, bob, carol, dave, bobSmith])
			if (who)
				for (const e of who.errors)
					errors.push(`${who.name}: ${e}`);
		assert(errors.length === 0, errors.join('\n'));
	});
}

runInBrowser('chatd-browser-', CHATD_OPTIONS, scenario);
