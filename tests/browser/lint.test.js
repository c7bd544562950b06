#!/usr/bin/env node
/*
 * lint.test.js: the browser client (www/) checked for the old browsers it
 * promises to serve, without a browser. Prints TAP version 13.
 *
 * - Every script in www/ parses as ES3 (acorn, ecmaVersion 3, reserved
 *   words refused as names) and passes ESLint with eslint-plugin-es-x's
 *   ES3 restriction (no ES5 syntax or built-ins: no Array.prototype.map,
 *   JSON, Date.now, String.prototype.trim...), no eval (the page parses
 *   JSON itself, so a Content-Security-Policy without 'unsafe-eval'
 *   holds), and no-undef with only the globals that IE6 has.
 * - The stylesheet is checked against IE6 with doiuse (caniuse data,
 *   browserslist "ie 6"): each feature it reports is either gone, or in
 *   DEGRADES below with the reason the page stands without it. A feature
 *   reported that is not listed fails, and so does a listed one that is no
 *   longer used (so that the list stays true).
 * - index.html has no inline script, inline event handler or style
 *   attribute (the Content-Security-Policy allows none).
 *
 * Run through tests/browser/run-lint-test (NODE_PATH: tests/browser's
 * node_modules, from npm ci).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { plan, report, skipAll } = require('./harness.js');

const TOP = path.resolve(process.env.TOP_SRCDIR || path.join(__dirname, '..', '..'));
const WWW = path.join(TOP, 'www');

/* Features of chat.css that IE6 lacks, and why the page stands without. */
const DEGRADES = {
	'border-radius': 'square corners on buttons, fields and the login card',
	'css-gencontent': 'the " (you)" after one\'s own nick in the list; ' +
	    'the nick is bold there anyway',
	'css-sel2': ':hover on a list item and :focus only change a colour',
	'css-overflow-anchor': 'turns scroll anchoring off where a browser has ' +
	    'it (view.js keeps the bottom itself); IE6 never anchors',
	'css-overflow': 'IE6 grows a box whose overflow is visible; every box ' +
	    'that must not grow says hidden or auto, which IE6 does',
	'minmaxwh': 'max-width and max-height on images: view.js bounds every ' +
	    'image to the list\'s width and 240 px when it loads (bound())',
	'wordwrap': 'word-wrap is IE\'s own property (since 5.5); caniuse ' +
	    'lists overflow-wrap under this name'
};

let acorn, eslint, esx, postcss, doiuse;
try {
	acorn = require('acorn');
	eslint = require('eslint');
	esx = require('eslint-plugin-es-x');
	postcss = require('postcss');
	doiuse = require('doiuse');
} catch (e) {
	skipAll(`lint modules missing (cd tests/browser && npm ci): ${e.message}`);
}

const scripts = fs.readdirSync(WWW).filter((f) => /\.js$/.test(f)).sort();

function checkScripts() {
	const linter = new eslint.Linter({ configType: 'flat' });
	const config = [
		esx.configs['flat/restrict-to-es3'],
		{
			/*
			 * Without type information the prototype rules see only
			 * literals; aggressive, they refuse every x.map(...),
			 * x.trim(), x.indexOf(...) of an ES5 method name.
			 */
			settings: { 'es-x': { aggressive: true } },
			languageOptions: {
				ecmaVersion: 3,
				sourceType: 'script',
				/* What IE6 gives a page's scripts. */
				globals: {
					window: 'readonly', document: 'readonly',
					setTimeout: 'readonly', clearTimeout: 'readonly',
					encodeURIComponent: 'readonly'
				}
			},
			rules: {
				'no-undef': 'error',
				'no-unused-vars': ['error', { caughtErrors: 'none' }],
				'no-eval': 'error'
			}
		}
	];
	report(scripts.length >= 4, `www/ has its scripts (${scripts.join(', ')})`);
	for (const f of scripts) {
		const src = fs.readFileSync(path.join(WWW, f), 'utf8');
		let why = '';
		try {
			acorn.parse(src, { ecmaVersion: 3, allowReserved: 'never',
			    sourceType: 'script' });
		} catch (e) {
			why = e.message;
		}
		report(!why, `www/${f} parses as ES3 (acorn)`, why);
		const msgs = linter.verify(src, config, { filename: f });
		report(msgs.length === 0, `www/${f} passes ESLint es-x/restrict-to-es3 and no-undef`,
		    msgs.map((m) => `${f}:${m.line}:${m.column}: ${m.message} (${m.ruleId})`).join('\n'));
	}
	/* The rule set does catch ES5: a check that cannot fail is no check. */
	const bad = linter.verify('var a = [1].map(function (x) { return x; });' +
	    ' var b = Date.now(); var c = JSON.parse("1"); var d = " x ".trim();',
	    config, { filename: 'probe.js' });
	report(bad.length >= 4, 'ESLint refuses ES5 built-ins (map, Date.now, JSON, trim)',
	    JSON.stringify(bad.map((m) => m.message)));
	let refused = false;
	try {
		acorn.parse('var o = { get x() { return 1; } };', { ecmaVersion: 3,
		    allowReserved: 'never' });
	} catch (e) {
		refused = true;
	}
	report(refused, 'acorn refuses ES5 syntax (a getter)');
}

async function checkCSS() {
	const file = path.join(WWW, 'chat.css');
	const css = fs.readFileSync(file, 'utf8');
	const found = [];
	await postcss([doiuse({
		browsers: ['ie 6'],
		onFeatureUsage: (u) => found.push(u)
	})]).process(css, { from: file });
	const features = new Set(found.map((u) => u.feature));
	const unlisted = found.filter((u) => !DEGRADES[u.feature]);
	report(unlisted.length === 0, 'every CSS feature IE6 lacks is listed with the reason it degrades',
	    unlisted.map((u) => u.message).join('\n'));
	const stale = Object.keys(DEGRADES).filter((f) => !features.has(f));
	report(stale.length === 0, 'every feature listed is still used (the list is true)',
	    stale.join(', '));
	for (const f of Object.keys(DEGRADES).sort())
		console.log(`# IE6 lacks ${f}: ${DEGRADES[f]}`);
	/* No box is sized by two opposite offsets (IE6 cannot). */
	const boxes = [];
	postcss.parse(css).walkRules((rule) => {
		const has = {};
		rule.walkDecls((d) => { has[d.prop] = true; });
		if ((has.top && has.bottom) || (has.left && has.right))
			boxes.push(rule.selector);
	});
	report(boxes.length === 0, 'no rule sizes a box by two opposite offsets', boxes.join('\n'));
	/* The check sees what it should. */
	const probe = [];
	await postcss([doiuse({ browsers: ['ie 6'], onFeatureUsage: (u) => probe.push(u.feature) })])
	    .process('a { display: flex; border-radius: 2px; }', { from: 'probe.css' });
	report(probe.indexOf('flexbox') >= 0 && probe.indexOf('border-radius') >= 0,
	    'doiuse reports flexbox and border-radius for IE6', JSON.stringify(probe));
}

function checkHTML() {
	const html = fs.readFileSync(path.join(WWW, 'index.html'), 'utf8');
	const inline = [];
	const re = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
	let m;
	while ((m = re.exec(html)) !== null)
		if (!/\bsrc=/.test(m[1]) || m[2].trim())
			inline.push(m[0].slice(0, 60));
	for (const a of html.match(/\s(on[a-z]+|style)\s*=/gi) || [])
		inline.push(a.trim());
	report(inline.length === 0, 'index.html: no inline script, event handler or style attribute',
	    inline.join('\n'));
	const loaded = (html.match(/<script src="([^"]+)"/g) || []).map((s) => s.slice(13, -1));
	report(loaded.slice().sort().join(',') === scripts.join(','),
	    'index.html loads every script of www/', loaded.join(', '));
}

(async () => {
	console.log('TAP version 13');
	checkScripts();
	await checkCSS();
	checkHTML();
	plan();
})().catch((e) => {
	report(false, 'the lint test runs', e.stack || String(e));
	plan();
});
