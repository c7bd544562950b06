#!/usr/bin/env node
/*
 * client.test.js: what the page in www/ promises the person typing, in
 * Debian's chromium (playwright-core) through the real nginx and chatd of
 * tools/stack, with chatd's default rate limit. Prints TAP version 13.
 *
 *   - the outbox: lines typed while chatd is stopped, and thirty at once
 *     under the rate limit, all arrive once and in order; a refused line
 *     stays with its reason and can be edited; a reload keeps the outbox;
 *   - an "old browser" profile (XMLHttpRequest, JSON, FormData, WebSocket,
 *     fetch, EventSource, Promise, sessionStorage, addEventListener, the
 *     ES5 array methods, Object.keys, trim and bind removed before any
 *     script, ActiveXObject wrapping the real XHR): login, rooms, private
 *     lines, an image through the hidden frame, history, logout;
 *   - phone (360x640, 375x667) and desktop (1280x800) sizes: nothing
 *     overflows sideways, every control is inside the window and usable,
 *     inputs at 16 px or more; a screenshot of each view at each size in
 *     SCREENSHOT_DIR (default tests/browser/screenshots under the current
 *     directory, which is the build tree under make check);
 *   - the view follows new lines past an image, "New messages below"
 *     when scrolled up, the unread count in the title, mentions;
 *   - presence: a reload and a second tab keep the session without a
 *     join or leave, closing the last tab writes the leave within the
 *     grace (not the five-minute idle timeout) and frees the nick;
 *   - a dozen XSS payloads in text, nick, room and link positions stay text.
 *
 * Environment: TOP_SRCDIR, CHATD (the binary), NODE_PATH (playwright-core).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { spawn } = require('child_process');
const { WAIT, assert, assertEqual, check, report, runInBrowser, sleep, stackDirectory,
    waitUntil, watchPage } = require('./harness.js');

const LONG = 60000;	/* thirty lines under 20 per 10 s, a restart */
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR ||
    path.join(process.cwd(), 'tests', 'browser', 'screenshots'));
const SIZES = [[360, 640], [375, 667], [1280, 800]];
/* The default rate limit and idle timeout (300 s): only --poll-max is short. */
const CHATD_OPTIONS = ['--poll-max', '5'];

/* ---- the stack, and chatd alone ---- */

let chatdArgs = null;

function chatdPid() {
	return Number(fs.readFileSync(path.join(stackDirectory(), 'chatd.pid'), 'utf8'));
}

function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return false;
	}
}

/* Stop chatd (SIGTERM) and wait until it is gone; nginx stays. */
async function stopChatd() {
	const pid = chatdPid();
	/* Started again as tools/stack started it (its user, its options). */
	chatdArgs = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')
	    .split('\0').filter((a) => a !== '');
	process.kill(pid, 'SIGTERM');
	await waitUntil(() => !alive(pid), 'chatd exits');
}

/* Start chatd again on the same socket and database. */
async function startChatd() {
	const sock = path.join(stackDirectory(), 'chatd.sock');
	try {
		fs.unlinkSync(sock);
	} catch (e) {
	}
	const log = fs.openSync(path.join(stackDirectory(), 'chatd.log'), 'a');
	const child = spawn(chatdArgs[0], chatdArgs.slice(1),
	    { stdio: ['ignore', log, log], detached: true });
	child.unref();
	fs.writeFileSync(path.join(stackDirectory(), 'chatd.pid'), String(child.pid));
	await waitUntil(() => fs.existsSync(sock), 'chatd makes its socket');
}

/* ---- images made here ---- */

const CRC = (() => {
	const t = [];
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		t.push(c >>> 0);
	}
	return t;
})();

function crc32(buf) {
	let c = 0xffffffff;
	for (const b of buf)
		c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

/* A w x h PNG of one colour. */
function png(w, h) {
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		len.writeUInt32BE(data.length);
		const td = Buffer.concat([Buffer.from(type), data]);
		const crc = Buffer.alloc(4);
		crc.writeUInt32BE(crc32(td));
		return Buffer.concat([len, td, crc]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr[8] = 8;
	ihdr[9] = 2;
	const raw = Buffer.alloc((w * 3 + 1) * h, 0x5a);
	for (let y = 0; y < h; y++)
		raw[y * (w * 3 + 1)] = 0;
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
	    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/* ---- people ---- */

/*
 * Before any page script: the browser of about 2006. ActiveXObject makes
 * the real XHR for the two MSXML names IE6 knows, and counts them.
 */
const OLD_BROWSER = `(() => {
	const RealXHR = window.XMLHttpRequest;
	const addListener = EventTarget.prototype.addEventListener;
	let made = 0, left = [];
	/* The counts go into the DOM once it is there. */
	function note() {
		const root = document.documentElement;
		if (!root)
			return;
		root.setAttribute('data-activex', String(made));
		root.setAttribute('data-left', left.join(',') || 'none');
	}
	function ActiveXObject(id) {
		if (id !== 'Microsoft.XMLHTTP' && id !== 'Msxml2.XMLHTTP')
			throw new Error('Automation server can not create object');
		made++;
		note();
		return new RealXHR();
	}
	for (const name of ['XMLHttpRequest', 'JSON', 'FormData', 'WebSocket', 'fetch',
	    'EventSource', 'Promise', 'sessionStorage']) {
		try { delete window[name]; } catch (e) {}
		try {
			if (window[name] !== undefined)
				Object.defineProperty(window, name, { value: undefined,
				    configurable: true, writable: true });
		} catch (e) {}
	}
	window.ActiveXObject = ActiveXObject;
	delete EventTarget.prototype.addEventListener;
	for (const m of ['forEach', 'map', 'filter', 'reduce', 'reduceRight', 'some',
	    'every', 'indexOf', 'lastIndexOf'])
		delete Array.prototype[m];
	delete Array.isArray;
	delete Object.keys;
	delete String.prototype.trim;
	delete Function.prototype.bind;
	delete Date.now;
	/*
	 * What is still there, for the test to read from the DOM: playwright's
	 * page.evaluate needs bind in this world, so the test uses locators
	 * (their own world) only.
	 */
	for (const name of ['XMLHttpRequest', 'JSON', 'FormData', 'WebSocket', 'fetch',
	    'EventSource', 'Promise', 'sessionStorage'])
		if (window[name] !== undefined)
			left.push(name);
	if (window.addEventListener) left.push('addEventListener');
	if ([].map || [].forEach || [].filter || [].indexOf || [].every) left.push('array methods');
	if (Object.keys) left.push('Object.keys');
	if (''.trim) left.push('trim');
	if ((function () {}).bind) left.push('bind');
	addListener.call(document, 'DOMContentLoaded', note);
	note();
})();`;

const people = [];

async function newContext(browser, size, old) {
	const context = await browser.newContext({
		viewport: { width: size[0], height: size[1] },
		isMobile: size[0] < 640, hasTouch: size[0] < 640
	});
	if (old)
		await context.addInitScript(OLD_BROWSER);
	return context;
}

/* A page of a context, with its errors and dialogs counted. */
async function openPage(context, url, name) {
	const page = await context.newPage();
	const who = { name, context, page, errors: [], allowed: [], dialogs: 0 };
	/* The browser logs every 4xx and 5xx answer; some are the point. */
	watchPage(who, (text) => /Failed to load resource/.test(text) &&
	    /status of (401|404|429|503)|ERR_FAILED|ERR_INTERNET_DISCONNECTED/.test(text));
	people.push(who);
	await page.goto(url + '/');
	return who;
}

async function person(browser, url, name, size, old) {
	const context = await newContext(browser, size || [1280, 800], old);
	return openPage(context, url, name);
}

async function login(who, nick) {
	await who.page.waitForSelector('#login-form', { state: 'visible', timeout: WAIT });
	await who.page.fill('#nick', nick);
	await who.page.press('#nick', 'Enter');
	await who.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
}

async function say(who, text) {
	await who.page.fill('#text', text);
	await who.page.press('#text', 'Enter');
}

function lines(who, type) {
	return who.page.locator(`#log .event.${type || 'message'} .text`).allTextContents();
}

async function waitText(who, type, s, ms) {
	await who.page.locator(`#log .event.${type}`, { hasText: s }).first()
	    .waitFor({ state: 'attached', timeout: ms || WAIT });
}

/* The lines of who's view that start with prefix, in page order. */
async function linesWith(who, prefix) {
	return (await lines(who)).filter((t) => t.indexOf(prefix) === 0);
}

async function shot(who, name) {
	const vp = who.page.viewportSize();
	const file = path.join(SHOTS, `${name}-${vp.width}x${vp.height}.png`);
	await who.page.screenshot({ path: file });
	return file;
}

/* ---- the scenarios ---- */

async function outboxChecks(browser, url, all) {
	const alice = await person(browser, url, 'alice');
	const bob = await person(browser, url, 'bob');

	await check('alice and bob log in', async () => {
		await login(alice, 'alice');
		await login(bob, 'bob');
		await waitText(alice, 'join', 'bob joined');
	});
	if (!all)
		return { alice, bob };

	await check('chatd stopped, five lines typed, chatd started: all five arrive once, in order', async () => {
		await stopChatd();
		const want = [];
		for (let i = 1; i <= 5; i++) {
			want.push(`down ${i}`);
			await say(alice, `down ${i}`);
		}
		await waitUntil(async () => (await alice.page.locator('#outbox .line').count()) === 5,
		    'five pending lines shown');
		assertEqual(await alice.page.locator('#outbox .line .text').allTextContents(), want,
		    'the pending lines, in typing order');
		await alice.page.waitForSelector('#status-bar', { state: 'visible', timeout: WAIT });
		assert(await alice.page.isVisible('#retry'), '"Retry now" is offered');
		await startChatd();
		await waitUntil(async () => (await linesWith(bob, 'down ')).length >= 5,
		    'bob gets the five lines', LONG);
		assertEqual(await linesWith(bob, 'down '), want, 'bob\'s lines');
		await waitUntil(async () => (await linesWith(alice, 'down ')).length >= 5 &&
		    (await alice.page.locator('#outbox .line').count()) === 0,
		    'alice\'s lines become ordinary lines', LONG);
		assertEqual(await linesWith(alice, 'down '), want, 'alice\'s lines');
		await alice.page.waitForSelector('#status-bar', { state: 'hidden', timeout: WAIT });
	});

	await check('thirty lines typed at once under the default rate limit: all thirty arrive once, in order', async () => {
		const want = [];
		for (let i = 1; i <= 30; i++) {
			want.push(`burst ${i}`);
			await say(alice, `burst ${i}`);
		}
		await waitUntil(async () => (await linesWith(bob, 'burst ')).length >= 30,
		    'bob gets thirty lines', LONG);
		await say(alice, 'after the burst');
		await waitText(bob, 'message', 'after the burst', LONG);
		assertEqual(await linesWith(bob, 'burst '), want, 'bob\'s lines');
		assertEqual(await linesWith(alice, 'burst '), want, 'alice\'s lines');
		assertEqual(await alice.page.locator('#outbox .line').count(), 0, 'nothing left pending');
	});

	await check('a refused line stays with the server\'s reason; Edit puts it back; the next line goes', async () => {
		await say(alice, '/msg nobody-by-this-name are you there');
		await say(alice, 'after the refused one');
		const failed = alice.page.locator('#outbox .line.failed');
		await failed.waitFor({ state: 'visible', timeout: LONG });
		const reason = await failed.locator('.state').textContent();
		assert(/online|no such|not/i.test(reason), `a reason is shown: ${reason}`);
		await waitText(bob, 'message', 'after the refused one', LONG);
		await failed.locator('button.edit').click();
		assertEqual(await alice.page.inputValue('#text'), '/msg nobody-by-this-name are you there',
		    'the line is back in the input');
		assertEqual(await alice.page.locator('#outbox .line').count(), 0, 'and out of the outbox');
		await alice.page.fill('#text', '');
	});

	await check('a line waiting in the outbox survives a reload, and is sent once', async () => {
		await alice.page.route('**/api/send', (route) => route.abort('failed'));
		await say(alice, 'kept across a reload');
		await alice.page.locator('#outbox .line', { hasText: 'kept across a reload' })
		    .waitFor({ state: 'attached', timeout: WAIT });
		await alice.page.reload();
		await alice.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
		await alice.page.locator('#outbox .line', { hasText: 'kept across a reload' })
		    .waitFor({ state: 'attached', timeout: WAIT });
		await alice.page.unroute('**/api/send');
		await alice.page.click('#retry').catch(() => {});
		await waitText(bob, 'message', 'kept across a reload', LONG);
		await say(alice, 'after the kept one');
		await waitText(bob, 'message', 'after the kept one', LONG);
		assertEqual((await linesWith(bob, 'kept across a reload')).length, 1, 'copies');
	});

	await check('"Retry now" and the online event bring the status back at once', async () => {
		await alice.context.setOffline(true);
		await alice.page.waitForSelector('#status-bar', { state: 'visible', timeout: LONG });
		await alice.context.setOffline(false);
		await alice.page.waitForSelector('#status-bar', { state: 'hidden', timeout: WAIT });
		await say(bob, 'after the network came back');
		await waitText(alice, 'message', 'after the network came back', LONG);
	});
	return { alice, bob };
}

async function oldBrowserChecks(browser, url, bob) {
	let old;
	const PNG = png(2, 2);

	await check('old browser: the removed APIs are gone before any script', async () => {
		old = await person(browser, url, 'old', [1024, 700], true);
		await old.page.waitForSelector('#login-form', { state: 'visible', timeout: WAIT });
		assertEqual(await old.page.locator('html').getAttribute('data-left'), 'none',
		    'still there');
	});

	await check('old browser: login through ActiveXObject, with the history', async () => {
		await say(bob, 'before oldie came');
		await waitText(bob, 'message', 'before oldie came', LONG);
		await login(old, 'oldie');
		await waitText(old, 'join', 'oldie joined');
		await waitText(old, 'message', 'before oldie came');
		const made = Number(await old.page.locator('html').getAttribute('data-activex'));
		assert(made > 2, `requests made by ActiveXObject: ${made}`);
	});

	await check('old browser: a line goes out and comes back; bob sees it', async () => {
		await say(old, 'from an old browser');
		await waitText(bob, 'message', 'from an old browser', LONG);
		await waitText(old, 'message', 'from an old browser', LONG);
	});

	await check('old browser: a private line both ways', async () => {
		await say(old, '/msg bob old and private');
		await waitText(bob, 'private', 'old and private', LONG);
		await say(bob, '/msg oldie private reply');
		await waitText(old, 'private', 'private reply', LONG);
		await bob.page.fill('#text', '');
	});

	await check('old browser: an image through the hidden frame', async () => {
		const framed = old.page.waitForResponse((r) => r.url().endsWith('/api/image?frame=1'),
		    { timeout: WAIT });
		await old.page.setInputFiles('#image-file', { name: 'dot.png', mimeType: 'image/png', buffer: PNG });
		await old.page.click('#image-button');
		assertEqual((await framed).status(), 200, 'the framed upload');
		await bob.page.locator('#log .event.image', { hasText: 'oldie' }).first()
		    .waitFor({ state: 'attached', timeout: WAIT });
		await old.page.locator('#log .event.image').first().waitFor({ state: 'attached', timeout: WAIT });
	});

	await check('old browser: rooms, with their history', async () => {
		await say(bob, '/join attic');
		await say(bob, 'up in the attic');
		await waitText(bob, 'message', 'up in the attic', LONG);
		await say(old, '/join attic');
		await waitUntil(async () => (await old.page.textContent('#room-name')) === 'attic',
		    'old is in the attic');
		await waitText(old, 'message', 'up in the attic');
		await say(old, 'old in the attic');
		await waitText(bob, 'message', 'old in the attic', LONG);
		/* (allTextContents would run in the page's world, without bind.) */
		assertEqual(await old.page.textContent('#rooms'), '#attic#lobby', 'the room list');
		await old.page.locator('#rooms li', { hasText: '#lobby' }).click();
		await waitText(old, 'message', 'from an old browser');
		await say(bob, '/join lobby');
	});

	await check('old browser: log out', async () => {
		const made = Number(await old.page.locator('html').getAttribute('data-activex'));
		await old.page.click('#logout');
		await old.page.waitForSelector('#login-form', { state: 'visible', timeout: WAIT });
		await waitText(bob, 'leave', 'oldie left', LONG);
		console.log(`# old browser ran: login, history, a line, a private line both ways, ` +
		    `an image by the hidden frame, /join and the room list, logout: ${made} ` +
		    'requests through ActiveXObject');
	});
}

/* Is every control of sel inside the window, visible, not cut? */
async function assertFits(who, sels) {
	const vp = who.page.viewportSize();
	const res = await who.page.evaluate(([list, width]) => {
		const out = [];
		const w = window.innerWidth, h = window.innerHeight;
		/*
		 * A phone's browser widens its layout viewport to content that
		 * overflows (innerWidth grows): both must stay at the screen's.
		 */
		if (w !== width)
			out.push(`innerWidth ${w}, not the screen's ${width}`);
		if (document.documentElement.scrollWidth > w)
			out.push(`page scrollWidth ${document.documentElement.scrollWidth} > ${w}`);
		for (const sel of list) {
			const el = document.querySelector(sel);
			if (!el) {
				out.push(`${sel}: missing`);
				continue;
			}
			const r = el.getBoundingClientRect();
			if (r.width === 0 || r.height === 0)
				out.push(`${sel}: not shown`);
			else if (r.left < 0 || r.right > w + 0.5 || r.top < 0 || r.bottom > h + 0.5)
				out.push(`${sel}: outside the window (${r.left},${r.top},${r.right},${r.bottom})`);
			if (el.scrollWidth > el.clientWidth + 1 && el.tagName === 'BUTTON')
				out.push(`${sel}: its text is cut (${el.scrollWidth} > ${el.clientWidth})`);
			if ((el.tagName === 'INPUT' || el.tagName === 'BUTTON') &&
			    parseFloat(getComputedStyle(el).fontSize) < 16 && el.type === 'text')
				out.push(`${sel}: font-size ${getComputedStyle(el).fontSize}`);
			const x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
			const top = document.elementFromPoint(x, y);
			if (r.width && top && top !== el && !el.contains(top))
				out.push(`${sel}: covered by ${top.id || top.className || top.tagName}`);
		}
		return out;
	}, [sels, vp.width]);
	assert(res.length === 0, `${who.name}: ${res.join('; ')}`);
}

async function sizeChecks(browser, url, bob) {
	const WIDE = png(900, 120);
	const files = [];

	for (const size of SIZES) {
		const tag = `${size[0]}x${size[1]}`;
		let who;
		await check(`${tag}: the login view fits, its field at 16 px`, async () => {
			who = await person(browser, url, `p${size[0]}`, size);
			await who.page.waitForSelector('#login-form', { state: 'visible', timeout: WAIT });
			await assertFits(who, ['#login-form', '#nick', '#login-button']);
			files.push(await shot(who, 'login'));
		});
		await check(`${tag}: the chat fits: send form, image sending, online list, status, logout`, async () => {
			await login(who, `p${size[0]}`);
			await say(who, `hello at ${tag} with a link https://example.org/${'x'.repeat(80)}`);
			await waitText(who, 'message', `hello at ${tag}`);
			await assertFits(who, ['#text', '#send-button', '#image-file', '#image-button',
			    '#logout', '#users-toggle', '#room-name', '#messages']);
			files.push(await shot(who, 'chat'));
		});
		await check(`${tag}: an image fits the width`, async () => {
			await who.page.setInputFiles('#image-file', { name: 'wide.png', mimeType: 'image/png', buffer: WIDE });
			await who.page.click('#image-button');
			await who.page.waitForFunction(() => {
				const imgs = document.querySelectorAll('#log .event.image img');
				const img = imgs[imgs.length - 1];
				return img && img.complete && img.naturalWidth === 900;
			}, null, { timeout: WAIT });
			const fit = await who.page.evaluate(() => {
				const imgs = document.querySelectorAll('#log .event.image img');
				const img = imgs[imgs.length - 1];
				const list = document.getElementById('messages');
				return img.getBoundingClientRect().right <= list.getBoundingClientRect().right &&
				    list.scrollWidth <= list.clientWidth;
			});
			assert(fit, 'the image stays inside the list, which does not scroll sideways');
			await assertFits(who, ['#text', '#image-button']);
			files.push(await shot(who, 'image'));
		});
		await check(`${tag}: the online list opens and closes, and fits`, async () => {
			const open = await who.page.isVisible('#users-panel');
			if (!open)
				await who.page.click('#users-toggle');
			await who.page.waitForSelector('#users-panel', { state: 'visible', timeout: WAIT });
			await who.page.locator('#users li', { hasText: `p${size[0]}` })
			    .waitFor({ state: 'visible', timeout: WAIT });
			await assertFits(who, ['#users-panel', '#room-input', '#room-button', '#text', '#logout']);
			files.push(await shot(who, 'online'));
			await who.page.click('#users-toggle');
			await who.page.waitForSelector('#users-panel', { state: 'hidden', timeout: WAIT });
			await assertFits(who, ['#text', '#messages']);
			await who.page.click('#users-toggle');
			if (!open) {
				await who.page.click('#users-toggle');
				await who.page.waitForSelector('#users-panel', { state: 'hidden', timeout: WAIT });
			}
		});
		await check(`${tag}: the status with "Retry now" fits beside Log out`, async () => {
			await who.page.route('**/api/poll?*', (route) => route.abort('failed'));
			await who.page.waitForSelector('#status-bar', { state: 'visible', timeout: LONG });
			await assertFits(who, ['#status', '#retry', '#logout', '#text', '#send-button']);
			files.push(await shot(who, 'status'));
			await who.page.unroute('**/api/poll?*');
			await who.page.click('#retry');
			await who.page.waitForSelector('#status-bar', { state: 'hidden', timeout: WAIT });
		});
		if (who) {
			await who.page.click('#logout').catch(() => {});
			await who.context.close();
		}
	}
	report(true, `screenshots: ${files.join(' ')}`);
}

async function followChecks(browser, url, alice, bob) {
	const TALL = png(60, 700);

	await check('the view follows new lines past an image (again when it loads)', async () => {
		await say(bob, '/join lobby');
		await waitUntil(async () => (await bob.page.textContent('#room-name')) === 'lobby',
		    'bob is in the lobby');
		/* A short window, so that the conversation is taller than the view. */
		await bob.page.setViewportSize({ width: 1280, height: 360 });
		await bob.page.evaluate(() => { const m = document.getElementById('messages');
			m.scrollTop = m.scrollHeight; });
		await alice.page.setInputFiles('#image-file', { name: 'tall.png', mimeType: 'image/png', buffer: TALL });
		await alice.page.click('#image-button');
		await bob.page.waitForFunction(() => {
			const imgs = document.querySelectorAll('#log .event.image img');
			const img = imgs[imgs.length - 1];
			return img && img.complete && img.naturalHeight === 700;
		}, null, { timeout: WAIT });
		/* Scrolled down before the image had a height: again once it has. */
		await bob.page.waitForFunction(() => {
			const m = document.getElementById('messages');
			return m.scrollHeight > m.clientHeight &&
			    m.scrollHeight - m.scrollTop - m.clientHeight < 3;
		}, null, { timeout: WAIT });
		for (let i = 1; i <= 3; i++)
			await say(alice, `past the image ${i}`);
		await waitText(bob, 'message', 'past the image 3', LONG);
		await bob.page.waitForFunction(() => {
			const m = document.getElementById('messages');
			return m.scrollHeight - m.scrollTop - m.clientHeight < 3;
		}, null, { timeout: WAIT });
		assert(await bob.page.isHidden('#new-below'), 'no marker while following');
	});

	await check('scrolled up, new lines show "New messages below", which takes the reader down', async () => {
		await bob.page.setViewportSize({ width: 1280, height: 360 });
		await bob.page.waitForFunction(() => {
			const m = document.getElementById('messages');
			return m.scrollHeight > m.clientHeight + 100;
		}, null, { timeout: WAIT });
		await bob.page.evaluate(() => { document.getElementById('messages').scrollTop = 0; });
		await bob.page.waitForFunction(() => document.getElementById('messages').scrollTop === 0);
		await sleep(300);
		await say(alice, 'while bob reads above');
		await waitText(bob, 'message', 'while bob reads above', LONG);
		await bob.page.waitForSelector('#new-below', { state: 'visible', timeout: WAIT });
		assertEqual(await bob.page.evaluate(() => document.getElementById('messages').scrollTop), 0,
		    'the view stays where bob reads');
		await bob.page.click('#new-below');
		await bob.page.waitForFunction(() => {
			const m = document.getElementById('messages');
			return m.scrollHeight - m.scrollTop - m.clientHeight < 3;
		}, null, { timeout: WAIT });
		await bob.page.waitForSelector('#new-below', { state: 'hidden', timeout: WAIT });
		await bob.page.setViewportSize({ width: 1280, height: 800 });
	});

	await check('while the tab is hidden the title counts unread lines; a line naming bob is marked', async () => {
		await bob.page.evaluate(() => {
			Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
			document.dispatchEvent(new Event('visibilitychange'));
		});
		await say(alice, 'unread one');
		await say(alice, 'hey bob, unread two');
		await waitText(bob, 'message', 'unread two', LONG);
		await bob.page.waitForFunction(() => /^\(2\) /.test(document.title), null, { timeout: WAIT });
		const mention = bob.page.locator('#log .event.message', { hasText: 'hey bob, unread two' });
		assert(/\bmention\b/.test(await mention.getAttribute('class')), 'the mention is marked');
		const plain = bob.page.locator('#log .event.message', { hasText: 'unread one' });
		assert(!/\bmention\b/.test(await plain.getAttribute('class')), 'other lines are not');
		await bob.page.evaluate(() => {
			Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
			document.dispatchEvent(new Event('visibilitychange'));
		});
		await bob.page.waitForFunction(() => !/^\(/.test(document.title), null, { timeout: WAIT });
	});

	await check('own lines are marked, a sender\'s run is grouped, links are built nodes', async () => {
		await say(alice, 'group one https://example.com/a?b=1');
		await say(alice, 'group two');
		await waitText(bob, 'message', 'group two', LONG);
		const mine = alice.page.locator('#log .event.message', { hasText: 'group two' });
		assert(/\bmine\b/.test(await mine.getAttribute('class')), 'own line marked');
		const two = bob.page.locator('#log .event.message', { hasText: 'group two' });
		assert(/\bcont\b/.test(await two.getAttribute('class')), 'the second line is grouped');
		const a = bob.page.locator('#log .event.message', { hasText: 'group one' }).locator('a');
		assertEqual(await a.getAttribute('href'), 'https://example.com/a?b=1', 'the link');
		assertEqual(await a.getAttribute('rel'), 'noopener noreferrer', 'its rel');
	});
}

/* Log nick in and out through the API, as another client would. */
async function comeAndGo(url, nick) {
	const res = await fetch(`${url}/api/login`, { method: 'POST',
	    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
	    body: `nick=${encodeURIComponent(nick)}` });
	assertEqual(res.status, 200, `login of ${nick}`);
	const body = await res.json();
	const out = await fetch(`${url}/api/logout`, { method: 'POST',
	    headers: { 'Content-Type': 'application/x-www-form-urlencoded',
		'X-Chat-Session': body.session, 'X-CSRF-Token': body.csrf }, body: '' });
	assertEqual(out.status, 200, `logout of ${nick}`);
}

async function featureChecks(browser, url, alice, bob) {
	await check('near 2,000 characters a counter shows; a longer line is refused, never cut', async () => {
		await alice.page.fill('#text', 'x'.repeat(1990));
		await alice.page.press('#text', 'End');
		await alice.page.type('#text', 'y');
		assertEqual((await alice.page.textContent('#counter')).trim(), '9 left', 'the counter');
		const long = 'z'.repeat(2001);
		await alice.page.fill('#text', long);
		await alice.page.type('#text', 'z');
		await alice.page.press('#text', 'Enter');
		await alice.page.waitForFunction(() => /at most 2000/.test(
		    document.getElementById('send-error').textContent), null, { timeout: WAIT });
		assertEqual((await alice.page.inputValue('#text')).length, 2002, 'the line stays whole');
		assertEqual(await alice.page.locator('#outbox .line').count(), 0, 'nothing queued');
		await alice.page.fill('#text', '');
	});

	await check('Up and Down walk the lines typed before', async () => {
		await say(alice, 'history one');
		await say(alice, 'history two');
		await waitText(bob, 'message', 'history two', LONG);
		await alice.page.press('#text', 'ArrowUp');
		assertEqual(await alice.page.inputValue('#text'), 'history two', 'one up');
		await alice.page.press('#text', 'ArrowUp');
		assertEqual(await alice.page.inputValue('#text'), 'history one', 'two up');
		await alice.page.press('#text', 'ArrowDown');
		await alice.page.press('#text', 'ArrowDown');
		assertEqual(await alice.page.inputValue('#text'), '', 'back down');
	});

	await check('an image sent to one person (with "/msg NICK " typed) is private', async () => {
		await alice.page.fill('#text', '/msg bob ');
		await alice.page.type('#text', ' ');
		await waitUntil(async () => (await alice.page.textContent('#image-label')) === 'Image to bob',
		    'the form says whom the image goes to');
		await alice.page.setInputFiles('#image-file', { name: 'p.png', mimeType: 'image/png', buffer: png(3, 3) });
		await alice.page.click('#image-button');
		const ev = bob.page.locator('#log .event.image.to-one', { hasText: 'alice \u2192 bob:' });
		await ev.first().waitFor({ state: 'attached', timeout: LONG });
		await alice.page.fill('#text', '');
	});

	await check('the room list counts the unread lines of the other rooms', async () => {
		const inRoom = (who, r) => waitUntil(async () =>
		    (await who.page.textContent('#room-name')) === r, `${who.name} in ${r}`);
		await say(bob, '/join side');
		await inRoom(bob, 'side');
		await say(bob, '/join lobby');
		await inRoom(bob, 'lobby');
		await say(alice, '/join side');
		await inRoom(alice, 'side');
		await say(alice, 'side one');
		await say(alice, 'side two');
		await waitText(alice, 'message', 'side two', LONG);
		await say(alice, '/join lobby');
		await inRoom(alice, 'lobby');
		const side = bob.page.locator('#rooms li', { hasText: '#side' });
		await waitUntil(async () => (await side.textContent()) === '#side (2)',
		    'bob\'s list says #side (2)', LONG);
		await side.click();
		await inRoom(bob, 'side');
		await waitText(bob, 'message', 'side two');
		assertEqual(await side.textContent(), '#side', 'read once shown');
		await bob.page.locator('#rooms li', { hasText: '#lobby' }).click();
		await inRoom(bob, 'lobby');
	});

	await check('a run of joins and leaves folds into one compact line', async () => {
		await say(alice, 'before the crowd');
		await waitText(bob, 'message', 'before the crowd', LONG);
		for (let i = 1; i <= 3; i++)
			await comeAndGo(url, `visitor${i}`);
		await waitText(bob, 'leave', 'visitor3 left', LONG);
		const fold = bob.page.locator('#log .fold').last();
		await fold.waitFor({ state: 'visible', timeout: WAIT });
		assert(/3 joined, 3 left/.test(await fold.textContent()), await fold.textContent());
		assert(await bob.page.locator('#log .event.join', { hasText: 'visitor1 joined' }).isHidden(),
		    'the run itself is folded away');
		await fold.click();
		await bob.page.locator('#log .event.join', { hasText: 'visitor1 joined' })
		    .waitFor({ state: 'visible', timeout: WAIT });
	});
}

async function presenceChecks(browser, url, bob) {
	let carol, tab2;

	await check('a reload keeps the session: no leave, no join', async () => {
		carol = await person(browser, url, 'carol');
		await login(carol, 'carol');
		await waitText(bob, 'join', 'carol joined', LONG);
		await carol.page.reload();
		await carol.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
		await say(carol, 'carol after her reload');
		await waitText(bob, 'message', 'carol after her reload', LONG);
		assertEqual(await bob.page.locator('#log .event.join', { hasText: 'carol joined' }).count(), 1,
		    'carol\'s joins');
		assertEqual(await bob.page.locator('#log .event.leave', { hasText: 'carol left' }).count(), 0,
		    'carol\'s leaves');
	});

	await check('a second tab of the same browser is the same person, not "nick taken"', async () => {
		tab2 = await openPage(carol.context, url, 'carol tab 2');
		await tab2.page.waitForSelector('#chat', { state: 'visible', timeout: WAIT });
		assertEqual((await tab2.page.textContent('#my-nick')).trim(), 'carol', 'the nick');
		await say(tab2, 'from carol\'s second tab');
		await waitText(bob, 'message', 'from carol\'s second tab', LONG);
		await waitText(carol, 'message', 'from carol\'s second tab', LONG);
		assertEqual(await bob.page.locator('#log .event.join', { hasText: 'carol joined' }).count(), 1,
		    'carol\'s joins');
	});

	await check('closing one of two tabs keeps carol; closing the last writes her leave within the grace', async () => {
		await carol.page.close({ runBeforeUnload: true });
		await sleep(14000);	/* past the server's 10 s grace */
		await say(tab2, 'carol is still here');
		await waitText(bob, 'message', 'carol is still here', LONG);
		assertEqual(await bob.page.locator('#log .event.leave', { hasText: 'carol left' }).count(), 0,
		    'no leave while a tab is open');
		const closed = Date.now();
		await tab2.page.close({ runBeforeUnload: true });
		await waitText(bob, 'leave', 'carol left', 40000);
		console.log(`# the leave came ${((Date.now() - closed) / 1000).toFixed(1)} s after the last tab closed`);
		const again = await person(browser, url, 'carol again');
		await login(again, 'carol');
		await again.page.click('#logout');
	});
}

async function xssChecks(browser, url, alice, bob) {
	const payloads = [
		'<img src=x onerror="window.__xss=1">',
		'<script>window.__xss=1</script>',
		'"><svg/onload=window.__xss=1>',
		'javascript:window.__xss=1',
		'https://example.com/"onmouseover="window.__xss=1',
		'https://example.com/<img src=x onerror=window.__xss=1>',
		'<a href="javascript:window.__xss=1">click</a>',
		'<iframe src="javascript:window.__xss=1"></iframe>',
		'\u2028<b>line separator</b>\u2029',
		'{{constructor.constructor("window.__xss=1")()}}',
		'<style>body{display:none}</style>',
		'data:text/html,<script>window.__xss=1</script>'
	];
	const nicks = ['<b onclick=x()>n</b>', '"><svg onload=x()>', '<script>x()'];

	await check('a dozen XSS payloads in text and link positions stay text and run nothing', async () => {
		for (const p of payloads)
			await say(alice, p);
		await say(alice, 'after the payloads');
		await waitText(bob, 'message', 'after the payloads', LONG);
		const got = await lines(bob);
		for (const p of payloads)
			assert(got.indexOf(p) >= 0, `shown as text: ${p}`);
		const res = await bob.page.evaluate(() => ({
			xss: window.__xss,
			bad: document.querySelectorAll('#log script, #log svg, #log iframe, #log style, #log b, ' +
			    '#log img:not([src^="api/image/"])').length,
			links: Array.prototype.map.call(document.querySelectorAll('#log a'),
			    (a) => [a.getAttribute('href'), a.rel])
		}));
		assertEqual(res.xss, undefined, 'window.__xss');
		assertEqual(res.bad, 0, 'elements made from the payloads');
		for (const [href, rel] of res.links) {
			assert(/^https?:\/\/[^"<>\s]+$/.test(href), `link ${href}`);
			assertEqual(rel, 'noopener noreferrer', 'rel');
		}
		assertEqual(bob.dialogs + alice.dialogs, 0, 'dialogs');
	});

	await check('XSS payloads as nicks (in the list, lines, private lines) stay text', async () => {
		for (const n of nicks) {
			const who = await person(browser, url, n);
			await login(who, n);
			await say(who, `I am ${n}`);
			await say(who, '/msg bob privately from a payload');
			await waitText(bob, 'message', `I am ${n}`, LONG);
			await who.page.click('#logout');
			await who.context.close();
		}
		const res = await bob.page.evaluate(() => ({
			xss: window.__xss,
			bad: document.querySelectorAll('#log b, #log svg, #log script, #users b, #users svg').length,
			from: Array.prototype.map.call(document.querySelectorAll('#log .event.message .from'),
			    (e) => e.textContent)
		}));
		for (const n of nicks)
			assert(res.from.indexOf(n) >= 0, `the nick ${n} shown as text`);
		assertEqual(res.bad, 0, 'elements made from nicks');
		assertEqual(res.xss, undefined, 'window.__xss');
	});

	await check('a payload as a room name is refused by the page and runs nothing', async () => {
		await say(alice, '/join <img src=x onerror=window.__xss=1>');
		await alice.page.waitForFunction(() => /room name/.test(
		    document.getElementById('send-error').textContent), null, { timeout: WAIT });
		await alice.page.evaluate(() => { location.hash = '<svg onload=window.__xss=1>'; });
		await sleep(300);
		assertEqual((await alice.page.textContent('#room-name')).trim(), 'lobby', 'the room');
		assertEqual(await alice.page.evaluate(() => window.__xss), undefined, 'window.__xss');
		await alice.page.evaluate(() => { location.hash = ''; });
	});
}

/* Every part, in one browser (CLIENT_ONLY=old,sizes runs some of them). */
async function scenario(browser, url) {
	/* After the outbox's logins. */
	const only = (process.env.CLIENT_ONLY || '').split(',').filter((x) => x);
	const want = (part) => only.length === 0 || only.indexOf(part) >= 0;
	const { alice, bob } = await outboxChecks(browser, url, want('outbox'));
	if (want('old'))
		await oldBrowserChecks(browser, url, bob);
	if (want('follow'))
		await followChecks(browser, url, alice, bob);
	if (want('features'))
		await featureChecks(browser, url, alice, bob);
	if (want('xss'))
		await xssChecks(browser, url, alice, bob);
	if (want('presence'))
		await presenceChecks(browser, url, bob);
	if (want('sizes'))
		await sizeChecks(browser, url, bob);
	await check('no console errors or page errors in any page', async () => {
		const errors = [];
		for (const who of people)
			for (const e of who.errors)
				errors.push(`${who.name}: ${e}`);
		assert(errors.length === 0, errors.join('\n'));
	});
}

fs.mkdirSync(SHOTS, { recursive: true });
runInBrowser('chatd-client-', CHATD_OPTIONS, scenario);
