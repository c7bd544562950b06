/*
 * net.js: how chatd's page talks to the server and keeps its state, for
 * every browser: XMLHttpRequest where the browser has it, else the MSXML
 * ActiveX objects of IE5 and IE6; a JSON parser of its own (JSON is ES5,
 * and eval would need a CSP with 'unsafe-eval'); sessionStorage where the
 * browser has and allows it, else nothing is kept across a reload. Plain
 * ES3, no ES5 built-ins.
 *
 * It defines window.chatd.net, used by outbox.js and chat.js. Nothing here
 * touches the page.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
(function () {
	var chatd = window.chatd || (window.chatd = {});
	var API = 'api/';	/* relative, so www/ may live under a prefix */
	var MSXML = ['Msxml2.XMLHTTP.6.0', 'Msxml2.XMLHTTP.3.0',
	    'Msxml2.XMLHTTP', 'Microsoft.XMLHTTP'];
	var msxml = -1;		/* index in MSXML that worked, -1 untried */
	var net = {};

	function noop() {
	}

	/*
	 * A new XMLHttpRequest, or the ActiveX object that IE6 has instead
	 * (the MSXML versions newest first, remembering which one works), or
	 * null if the browser has neither.
	 */
	net.createXHR = function () {
		var i, x;

		if (window.XMLHttpRequest)
			return new window.XMLHttpRequest();
		if (!window.ActiveXObject)
			return null;
		for (i = msxml < 0 ? 0 : msxml; i < MSXML.length; i++) {
			try {
				x = new window.ActiveXObject(MSXML[i]);
				msxml = i;
				return x;
			} catch (e) {
			}
		}
		return null;
	};

	/* An object as an x-www-form-urlencoded string. */
	net.encodeForm = function (params) {
		var parts = [], k;

		for (k in params)
			if (params.hasOwnProperty(k) && params[k] != null)
				parts.push(encodeURIComponent(k) + '=' +
				    encodeURIComponent(String(params[k])));
		return parts.join('&');
	};

	/*
	 * JSON text as a value; throws on anything that is not JSON. Written
	 * out because IE7 and older have no JSON.parse, and eval would need a
	 * Content-Security-Policy with 'unsafe-eval'.
	 */
	function parse(s) {
		var at = 0, ch = s.charAt(0), v;
		var escapes = { '"': '"', '\\': '\\', '/': '/', b: '\b',
		    f: '\f', n: '\n', r: '\r', t: '\t' };

		function fail() {
			throw new Error('not JSON at ' + at);
		}

		function next() {
			at++;
			ch = s.charAt(at);
		}

		function white() {
			while (ch === ' ' || ch === '\t' || ch === '\n' ||
			    ch === '\r')
				next();
		}

		function string() {
			var out = [], start, h;

			next();
			start = at;
			for (;;) {
				if (ch === '' || ch < ' ')
					fail();
				if (ch === '"') {
					out.push(s.substring(start, at));
					next();
					return out.join('');
				}
				if (ch === '\\') {
					out.push(s.substring(start, at));
					next();
					if (ch === 'u') {
						h = s.substring(at + 1, at + 5);
						if (!/^[0-9a-fA-F]{4}$/.test(h))
							fail();
						out.push(String.fromCharCode(
						    parseInt(h, 16)));
						at += 4;
					} else if (escapes.hasOwnProperty(ch))
						out.push(escapes[ch]);
					else
						fail();
					next();
					start = at;
					continue;
				}
				next();
			}
		}

		function number() {
			var m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+\-]?\d+)?/.
			    exec(s.substring(at, at + 40));

			if (!m)
				fail();
			at += m[0].length - 1;
			next();
			return Number(m[0]);
		}

		function word(w, v) {
			if (s.substring(at, at + w.length) !== w)
				fail();
			at += w.length - 1;
			next();
			return v;
		}

		function array() {
			var a = [];

			next();
			white();
			if (ch === ']') {
				next();
				return a;
			}
			for (;;) {
				a.push(value());
				white();
				if (ch === ']') {
					next();
					return a;
				}
				if (ch !== ',')
					fail();
				next();
			}
		}

		function object() {
			var o = {}, k;

			next();
			white();
			if (ch === '}') {
				next();
				return o;
			}
			for (;;) {
				white();
				if (ch !== '"')
					fail();
				k = string();
				white();
				if (ch !== ':')
					fail();
				next();
				o[k] = value();
				white();
				if (ch === '}') {
					next();
					return o;
				}
				if (ch !== ',')
					fail();
				next();
			}
		}

		function value() {
			white();
			switch (ch) {
			case '{':
				return object();
			case '[':
				return array();
			case '"':
				return string();
			case 't':
				return word('true', true);
			case 'f':
				return word('false', false);
			case 'n':
				return word('null', null);
			default:
				return number();
			}
		}

		v = value();

		white();
		if (ch !== '')
			fail();
		return v;
	}

	/* Parse a JSON answer, or return null. */
	net.parseJSON = function (s) {
		if (!s)
			return null;
		try {
			return parse(String(s));
		} catch (e) {
			return null;
		}
	};

	/* A string as a JSON string, every character outside ASCII escaped. */
	function quote(s) {
		return '"' + String(s).replace(/[\u0000-\u001f"\\\u007f-\uffff]/g,
		    function (c) {
			var h = c.charCodeAt(0).toString(16);

			return '\\u' + '0000'.substring(h.length) + h;
		}) + '"';
	}

	/*
	 * A value of strings, numbers, booleans, null, arrays and plain
	 * objects as JSON (for sessionStorage; JSON.stringify is ES5).
	 */
	net.toJSON = function (v) {
		var parts = [], k, i;

		if (v === null || v === undefined)
			return 'null';
		if (typeof v === 'string')
			return quote(v);
		if (typeof v === 'number')
			return isFinite(v) ? String(v) : 'null';
		if (typeof v === 'boolean')
			return v ? 'true' : 'false';
		if (v instanceof Array) {
			for (i = 0; i < v.length; i++)
				parts.push(net.toJSON(v[i]));
			return '[' + parts.join(',') + ']';
		}
		for (k in v)
			if (v.hasOwnProperty(k) && v[k] !== undefined)
				parts.push(quote(k) + ':' + net.toJSON(v[k]));
		return '{' + parts.join(',') + '}';
	};

	/* sessionStorage's value for key, or null. */
	net.load = function (key) {
		try {
			if (window.sessionStorage)
				return window.sessionStorage.getItem(key);
		} catch (e) {
		}
		return null;
	};

	/* Keep value under key in sessionStorage (null removes it). */
	net.save = function (key, value) {
		try {
			if (!window.sessionStorage)
				return;
			if (value != null)
				window.sessionStorage.setItem(key, value);
			else
				window.sessionStorage.removeItem(key);
		} catch (e) {
		}
	};

	/* Milliseconds since the epoch (Date.now is ES5). */
	net.now = function () {
		return new Date().getTime();
	};

	/*
	 * The delay before retry number tries (0 the first): 1 s doubling,
	 * at most cap ms, each between three quarters and all of it, so that
	 * pages that lost the server together do not come back together.
	 */
	net.backoff = function (tries, cap) {
		var ms = 1000 * Math.pow(2, Math.min(tries, 10));

		ms = Math.min(ms, cap);
		return Math.round(ms * (0.75 + Math.random() * 0.25));
	};

	/*
	 * Called with (status) after every answer that came from chatd or
	 * nginx (any status); chat.js uses it to know the connection is back.
	 */
	net.onAnswer = noop;

	/* The CSRF token that POSTs carry, or null. */
	net.csrf = null;

	/*
	 * One API request. done(status, body, retryAfter) is called exactly
	 * once: status 0 for a network failure or after ms milliseconds, body
	 * the parsed JSON answer or null, retryAfter the seconds of a
	 * Retry-After header or 0. Returns an object whose abort() cancels
	 * the request without calling done. sync: wait for the answer (only
	 * for a page that is going away).
	 */
	net.request = function (method, path, params, ms, done, sync) {
		var xhr = net.createXHR(), url = API + path, body = null;
		var form = net.encodeForm(params || {}), finished = false, timer;

		function finish(status, text, after) {
			if (finished)
				return;
			finished = true;
			clearTimeout(timer);
			if (xhr)
				xhr.onreadystatechange = noop;
			if (status)
				net.onAnswer(status);
			done(status, net.parseJSON(text), after);
		}

		function onState() {
			var status = 0, after = 0, text = '';

			if (xhr.readyState !== 4)
				return;
			try {
				status = xhr.status;
				text = xhr.responseText;
				after = parseInt(xhr.getResponseHeader(
				    'Retry-After'), 10) || 0;
			} catch (e) {
			}
			/* IE reports network failures as 12xxx. */
			if (status >= 12000)
				status = 0;
			finish(status, status ? text : '', after);
		}

		if (!xhr) {
			setTimeout(function () { finish(0, '', 0); }, 0);
			return { abort: noop };
		}
		if (method === 'GET') {
			if (form)
				url += '?' + form;
		} else
			body = form;
		try {
			xhr.open(method, url, !sync);
			if (method === 'POST') {
				xhr.setRequestHeader('Content-Type',
				    'application/x-www-form-urlencoded; ' +
				    'charset=UTF-8');
				if (net.csrf)
					xhr.setRequestHeader('X-CSRF-Token',
					    net.csrf);
			}
			xhr.onreadystatechange = onState;
			if (!sync)
				timer = setTimeout(function () {
					finish(0, '', 0);
					xhr.abort();
				}, ms);
			xhr.send(body);
			if (sync)
				onState();
		} catch (e) {
			setTimeout(function () { finish(0, '', 0); }, 0);
		}
		return {
			abort: function () {
				if (finished)
					return;
				finished = true;
				clearTimeout(timer);
				xhr.onreadystatechange = noop;
				xhr.abort();
			}
		};
	};

	/* The server's message for a failed request, or a fallback. */
	net.errorText = function (status, body, fallback) {
		if (body && body.message)
			return String(body.message);
		if (!status)
			return 'The server cannot be reached; ' +
			    'please try again.';
		return fallback + ' (HTTP ' + status + ').';
	};

	net.API = API;
	net.noop = noop;
	chatd.net = net;
}());
