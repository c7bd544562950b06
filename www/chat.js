/*
 * chat.js: the browser side of chatd, for every browser that has
 * XMLHttpRequest, old ones included (no WebSocket, no fetch, no ES5 syntax:
 * this file is plain ES3, so keep it that way).
 *
 * It speaks the HTTP API of docs/api.md. A person logs in with a nick
 * (POST api/login), which gives a CSRF token and a cursor; the page then
 * loads the room's recent history (GET api/history) and long-polls
 * (GET api/poll?since=CURSOR), polling again at once with each cursor it is
 * given, and backing off with the same cursor when the network fails.
 * Events are shown once each, in id order, whichever way they came. Messages
 * go out one at a time through POST api/send, each with a client_id so that
 * the one retry after a lost answer cannot post it twice. Text from the
 * server is only ever put in the page as text nodes, never as HTML.
 *
 * A reload keeps the session: the nick and CSRF token live in
 * sessionStorage (the session itself is the HttpOnly cookie), and a page
 * that finds them resumes instead of asking for a nick again.
 *
 * One room is shown at a time: "/join NAME" (or #NAME in the address)
 * switches, reloading that room's history and polling it from the same
 * cursor. "Earlier messages" at the top loads the history before the
 * oldest event shown (GET api/history?before=ID).
 */
(function () {
	var API = 'api/';	/* relative, so www/ may live under a prefix */
	var POLL_WAIT = 25;	/* seconds the server may hold a poll */
	var MAX_EVENTS = 1000;	/* events kept in the page */
	var STORE_KEY = 'chatd';

	var ROOM_RE = /^[a-z0-9-]{1,32}$/;
	var OLDER_PAGE = 50;	/* events per "Earlier messages" */

	var room = 'lobby';	/* the room shown */
	var view = 0;		/* bumped at every room switch: answers for
				   the room left are dropped */
	var oldestId = 0;	/* oldest event id shown, 0 if none */
	var beginning = false;	/* nothing older in the room's history */
	var me = null;		/* our nick, null when logged out */
	var csrf = null;	/* CSRF token from login */
	var cursor = 0;		/* where the next poll starts */
	var gen = 0;		/* bumped at every login and logout: answers
				   meant for an old session are dropped */
	var seen = {};		/* ids of the events shown */
	var lastId = 0;		/* newest event id shown */
	var pollReq = null, pollTimer = null, backoff = 0;
	var usersBusy = -1, usersAgain = false;
	var online = [];	/* nicks in the last user list */
	var sendQueue = [], sending = false, sendSeq = 0;
	var loggingIn = false;
	var uploading = 0;	/* gen of the upload under way, or 0 */
	var uploadTimer = null;

	/* ---- small helpers ---- */

	function $(id) {
		return document.getElementById(id);
	}

	/* Replace the contents of el with the text s (never parsed as HTML). */
	function setText(el, s) {
		while (el.firstChild)
			el.removeChild(el.firstChild);
		if (s)
			el.appendChild(document.createTextNode(s));
	}

	/* Append a new element with a class and text to parent; return it. */
	function addChild(parent, tag, cls, s) {
		var el = document.createElement(tag);

		if (cls)
			el.className = cls;
		if (s)
			el.appendChild(document.createTextNode(s));
		parent.appendChild(el);
		return el;
	}

	function show(el, on) {
		el.style.display = on ? '' : 'none';
	}

	function pad2(n) {
		return n < 10 ? '0' + n : String(n);
	}

	function now() {
		return new Date().getTime();
	}

	/* An object as an x-www-form-urlencoded string. */
	function encodeForm(params) {
		var parts = [], k;

		for (k in params)
			if (params.hasOwnProperty(k) && params[k] != null)
				parts.push(encodeURIComponent(k) + '=' +
				    encodeURIComponent(String(params[k])));
		return parts.join('&');
	}

	/*
	 * Parse a JSON answer, or return null. Browsers without JSON (IE7 and
	 * older) get the json2.js check before eval: the API escapes its JSON
	 * so that it is also a safe JavaScript expression.
	 */
	function parseJSON(s) {
		var escapes = /\\(?:["\\\/bfnrt]|u[0-9a-fA-F]{4})/g;
		var values =
		    /"[^"\\\n\r]*"|true|false|null|-?\d+(?:\.\d*)?(?:[eE][+\-]?\d+)?/g;
		var opens = /(?:^|:|,)(?:\s*\[)+/g;

		if (!s)
			return null;
		try {
			if (window.JSON && window.JSON.parse)
				return window.JSON.parse(s);
			if (/^[\],:{}\s]*$/.test(s.replace(escapes, '@').
			    replace(values, ']').replace(opens, '')))
				return eval('(' + s + ')');
		} catch (e) {
		}
		return null;
	}

	function noop() {
	}

	/*
	 * One API request. done(status, body) is called exactly once, with
	 * status 0 for a network failure or a timeout (after ms milliseconds),
	 * and body the parsed JSON answer or null. POSTs carry the CSRF token.
	 * Returns an object whose abort() cancels the request without calling
	 * done.
	 */
	function request(method, path, params, ms, done) {
		var xhr = new XMLHttpRequest(), url = API + path, body = null;
		var form = encodeForm(params || {}), finished = false, timer;

		function finish(status, text) {
			if (finished)
				return;
			finished = true;
			clearTimeout(timer);
			xhr.onreadystatechange = noop;
			done(status, parseJSON(text));
		}

		if (method === 'GET') {
			if (form)
				url += '?' + form;
		} else
			body = form;
		xhr.open(method, url, true);
		if (method === 'POST') {
			xhr.setRequestHeader('Content-Type',
			    'application/x-www-form-urlencoded; charset=UTF-8');
			if (csrf)
				xhr.setRequestHeader('X-CSRF-Token', csrf);
		}
		xhr.onreadystatechange = function () {
			var status = 0;

			if (xhr.readyState !== 4)
				return;
			try {
				status = xhr.status;
			} catch (e) {
			}
			/* IE reports network failures as 12xxx. */
			if (status >= 12000)
				status = 0;
			finish(status, status ? xhr.responseText : '');
		};
		timer = setTimeout(function () {
			finish(0, '');
			xhr.abort();
		}, ms);
		xhr.send(body);
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
	}

	/* The server's message for a failed request, or a fallback. */
	function errorText(status, body, fallback) {
		if (body && body.message)
			return String(body.message);
		if (!status)
			return 'The server cannot be reached; ' +
			    'please try again.';
		return fallback + ' (HTTP ' + status + ').';
	}

	/* sessionStorage, where the browser has it and allows it. */
	function store(value) {
		try {
			if (value)
				window.sessionStorage.setItem(STORE_KEY, value);
			else
				window.sessionStorage.removeItem(STORE_KEY);
		} catch (e) {
		}
	}

	function stored() {
		try {
			return window.sessionStorage.getItem(STORE_KEY);
		} catch (e) {
			return null;
		}
	}

	/* A form handler that never lets the browser submit the form. */
	function handler(fn) {
		return function () {
			try {
				fn();
			} catch (e) {
				/* Report it, but do not leave the page. */
				setTimeout(function () { throw e; }, 0);
			}
			return false;
		};
	}

	function setStatus(s) {
		setText($('status'), s);
	}

	/* ---- views ---- */

	function showLogin(message) {
		show($('chat'), false);
		show($('login-form'), true);
		setText($('login-error'), message);
		document.title = 'chatd';
		$('nick').focus();
	}

	function showChat() {
		show($('login-form'), false);
		show($('chat'), true);
		setText($('login-error'), '');
		setText($('send-error'), '');
		setText($('my-nick'), me);
		setText($('room-name'), room);
		document.title = '#' + room + ' - chatd';
		$('text').focus();
	}

	/* ---- sessions ---- */

	function onLogin() {
		var nick = $('nick').value.replace(/^\s+|\s+$/g, ''), g;

		if (loggingIn)
			return;
		if (!nick) {
			setText($('login-error'), 'Please choose a nick.');
			$('nick').focus();
			return;
		}
		loggingIn = true;
		$('login-button').disabled = true;
		setText($('login-error'), '');
		csrf = null;
		request('POST', 'login', { nick: nick }, 20000,
		    function (status, body) {
			loggingIn = false;
			$('login-button').disabled = false;
			if (status === 200 && body && body.csrf) {
				startSession(body.nick || nick, body.csrf);
				cursor = body.cursor || 0;
				g = gen;
				loadHistory(g, view, 0, function () {
					poll(g, view);
				});
			} else {
				setText($('login-error'),
				    errorText(status, body, 'Login failed'));
				$('nick').focus();
			}
		});
	}

	/* Enter the chat as nick with the given CSRF token. */
	function startSession(nick, token) {
		gen++;
		me = nick;
		csrf = token;
		room = roomOfAddress();
		backoff = 0;
		store(nick + '\n' + token);
		clearMessages();
		setText($('users'), '');
		setText($('user-count'), '0');
		setStatus('');
		showChat();
		refreshUsers(gen);
	}

	/* Leave the chat view (the session is over) and show the login form. */
	function endSession(message) {
		gen++;
		if (pollReq)
			pollReq.abort();
		pollReq = null;
		clearTimeout(pollTimer);
		me = null;
		csrf = null;
		sendQueue = [];
		sending = false;
		uploading = 0;
		clearTimeout(uploadTimer);
		$('image-button').disabled = false;
		store(null);
		clearMessages();
		setText($('users'), '');
		showLogin(message);
	}

	/* The server says the session is over (401): back to the login. */
	function sessionEnded() {
		endSession('Your session has ended. Please log in again.');
	}

	function onLogout() {
		/* The request carries the token; the page does not wait. */
		request('POST', 'logout', {}, 10000, noop);
		endSession('');
	}

	/* After a reload: go on with the stored session if it still lives. */
	function resume(saved) {
		var i = saved.indexOf('\n'), g;

		startSession(saved.substring(0, i), saved.substring(i + 1));
		g = gen;
		loadHistory(g, view, 0, function () {
			cursor = lastId;
			poll(g, view);
		});
	}

	/* ---- events ---- */

	function formatTime(ts) {
		var d = new Date(ts);

		return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
	}

	function sameNick(a, b) {
		return a != null && b != null &&
		    String(a).toLowerCase() === String(b).toLowerCase();
	}

	/* The element for one event, or null for a kind this page ignores. */
	function renderEvent(ev) {
		var el = document.createElement('div'), t, img;

		el.className = 'event ' + ev.type;
		el.setAttribute('data-id', String(ev.id));
		if (ev.ts) {
			t = addChild(el, 'span', 'time', formatTime(ev.ts));
			t.title = new Date(ev.ts).toString();
			el.appendChild(document.createTextNode(' '));
		}
		switch (ev.type) {
		case 'message':
			addChild(el, 'span', 'from', ev.from);
			break;
		case 'private':
			addChild(el, 'span', 'from',
			    ev.from + ' \u2192 ' + ev.to + ':');
			break;
		case 'image':
			addChild(el, 'span', 'from', ev.to ?
			    ev.from + ' \u2192 ' + ev.to + ':' : ev.from);
			break;
		case 'join':
			addChild(el, 'span', 'notice', ev.from + ' joined');
			return el;
		case 'leave':
			addChild(el, 'span', 'notice', ev.from + ' left' +
			    (ev.text && ev.text !== 'logout' ?
			    ' (' + ev.text + ')' : ''));
			return el;
		default:
			return null;
		}
		if (sameNick(ev.from, me))
			el.className += ' mine';
		el.appendChild(document.createTextNode(' '));
		if (ev.type === 'image') {
			img = document.createElement('img');
			img.src = API + 'image/' + encodeURIComponent(ev.image);
			img.alt = 'image from ' + ev.from;
			el.appendChild(img);
		} else
			addChild(el, 'span', 'text', ev.text);
		return el;
	}

	/* Put el into #messages in id order (it is nearly always last). */
	function insertEvent(el, id) {
		var list = $('messages'), next = null, node = list.lastChild;

		while (node && Number(node.getAttribute('data-id')) > id) {
			next = node;
			node = node.previousSibling;
		}
		list.insertBefore(el, next);
		/*
		 * Trim the oldest (after the "Earlier messages" button, which
		 * stays first) when live ones come; they can be loaded again.
		 */
		while (next === null && list.childNodes.length > MAX_EVENTS + 1) {
			node = $('older').nextSibling;
			delete seen[node.getAttribute('data-id')];
			list.removeChild(node);
			oldestId = Number($('older').nextSibling.
			    getAttribute('data-id'));
		}
	}

	/* Empty #messages (but its button) for a new session or room. */
	function clearMessages() {
		var list = $('messages'), older = $('older');

		while (list.lastChild && list.lastChild !== older)
			list.removeChild(list.lastChild);
		seen = {};
		lastId = 0;
		oldestId = 0;
		beginning = false;
		older.disabled = false;
		setText(older, 'Earlier messages');
	}

	/* "Earlier messages": the page of history before the oldest shown. */
	function loadOlder() {
		if (!me)
			return;
		$('older').disabled = true;
		loadHistory(gen, view, oldestId, function () {
			$('older').disabled = beginning;
		});
	}

	/* The history holds nothing older than what is shown. */
	function atBeginning() {
		beginning = true;
		$('older').disabled = true;
		setText($('older'), 'This is the beginning');
	}

	/*
	 * Show room name instead: its history, then its news from the same
	 * cursor (what the history already showed is not shown twice).
	 */
	function switchRoom(name) {
		var g = gen, v;

		if (!ROOM_RE.test(name)) {
			setText($('send-error'), 'A room name is 1 to 32 of ' +
			    'a-z, 0-9 and -.');
			return;
		}
		setText($('send-error'), '');
		if (name === room)
			return;
		v = ++view;
		if (pollReq)
			pollReq.abort();
		pollReq = null;
		clearTimeout(pollTimer);
		room = name;
		clearMessages();
		setText($('room-name'), room);
		document.title = '#' + room + ' - chatd';
		try {
			window.location.hash = room === 'lobby' ? '' : room;
		} catch (e) {
		}
		loadHistory(g, v, 0, function () {
			poll(g, v);
		});
	}

	/* The room named in the address (#NAME), or lobby. */
	function roomOfAddress() {
		var h = String(window.location.hash || '').replace(/^#/, '');

		return ROOM_RE.test(h) ? h : 'lobby';
	}

	/*
	 * Show the events not shown yet. live: they came from a poll, so a
	 * join or leave among them changes who is online. older: they go
	 * above what is shown, which stays where it is on the screen.
	 */
	function addEvents(events, live, older) {
		var list = $('messages'), i, ev, el, atEnd, mine = false;
		var joins = false, height = list.scrollHeight;

		atEnd = list.scrollHeight - list.scrollTop -
		    list.clientHeight < 40;
		for (i = 0; i < events.length; i++) {
			ev = events[i];
			if (!ev || ev.id == null || seen[ev.id])
				continue;
			seen[ev.id] = true;
			if (ev.id > lastId)
				lastId = ev.id;
			if (!oldestId || ev.id < oldestId)
				oldestId = ev.id;
			if (ev.type === 'join' || ev.type === 'leave')
				joins = true;
			el = renderEvent(ev);
			if (!el)
				continue;
			insertEvent(el, ev.id);
			if (sameNick(ev.from, me))
				mine = true;
		}
		if (older)
			list.scrollTop += list.scrollHeight - height;
		else if (atEnd || mine || !live)
			list.scrollTop = list.scrollHeight;
		if (joins && live)
			refreshUsers(gen);
	}

	/* Is an answer asked for in session g and view v still wanted? */
	function current(g, v) {
		return g === gen && v === view;
	}

	/*
	 * Load a page of the room's history, the newest or (before, an id)
	 * the one before it, then call then().
	 */
	function loadHistory(g, v, before, then) {
		var params = { room: room, limit: OLDER_PAGE };

		if (before)
			params.before = before;
		request('GET', 'history', params, 20000, function (status, body) {
			if (!current(g, v))
				return;
			if (status === 401) {
				sessionEnded();
				return;
			}
			if (status === 200 && body && body.events) {
				addEvents(body.events, false, !!before);
				if (body.events.length < OLDER_PAGE)
					atBeginning();
			} else
				setStatus('Could not load earlier messages.');
			then();
		});
	}

	/*
	 * The long poll: wait for events after cursor, show them, poll again
	 * with the new cursor. On failure retry the same cursor, waiting
	 * longer each time (1 s doubling up to 30 s).
	 */
	function poll(g, v) {
		var started = now();

		if (!current(g, v))
			return;
		pollReq = request('GET', 'poll',
		    { since: cursor, room: room, timeout: POLL_WAIT },
		    (POLL_WAIT + 20) * 1000, function (status, body) {
			pollReq = null;
			if (!current(g, v))
				return;
			if (status === 401) {
				sessionEnded();
				return;
			}
			if (status === 200 && body && body.events) {
				backoff = 0;
				setStatus('');
				addEvents(body.events, true);
				if (body.cursor != null)
					cursor = body.cursor;
				/* An empty answer at once would spin: pause. */
				pollTimer = setTimeout(function () { poll(g, v); },
				    body.events.length === 0 &&
				    now() - started < 1000 ? 1000 : 0);
				return;
			}
			backoff = backoff ? Math.min(backoff * 2, 30000) : 1000;
			setStatus(status ? 'Server trouble; retrying\u2026' :
			    'Connection lost; retrying\u2026');
			pollTimer = setTimeout(function () {
				poll(g, v);
			}, backoff);
		});
	}

	/* ---- who is online ---- */

	/* Fetch the online list; a second call while one runs fetches again. */
	function refreshUsers(g) {
		if (usersBusy === g) {
			usersAgain = true;
			return;
		}
		usersBusy = g;
		usersAgain = false;
		request('GET', 'users', {}, 20000, function (status, body) {
			if (g !== gen)
				return;
			usersBusy = -1;
			if (status === 401) {
				sessionEnded();
				return;
			}
			if (status === 200 && body && body.users)
				renderUsers(body);
			else
				usersAgain = true;
			if (usersAgain)
				setTimeout(function () { refreshUsers(g); },
				    status === 200 ? 0 : 5000);
		});
	}

	function renderUsers(body) {
		var ul = $('users'), users = body.users.slice(0), i, u, li;

		online = [];
		for (i = 0; i < users.length; i++)
			online.push(String(users[i].nick));

		users.sort(function (a, b) {
			var x = String(a.nick).toLowerCase();
			var y = String(b.nick).toLowerCase();
			return x < y ? -1 : x > y ? 1 : 0;
		});
		setText(ul, '');
		for (i = 0; i < users.length; i++) {
			u = users[i];
			li = addChild(ul, 'li',
			    sameNick(u.nick, me) ? 'me' : '', u.nick);
			li.title = 'Click to send ' + u.nick +
			    ' a private message' + (u.idle != null ?
			    ' (idle ' + u.idle + ' s)' : '');
			li.onclick = privateTo(u.nick);
		}
		setText($('user-count'),
		    String(body.count != null ? body.count : users.length));
	}

	/* A click handler that starts a private message to nick. */
	function privateTo(nick) {
		return function () {
			var input = $('text');

			input.value = '/msg ' + nick + ' ';
			input.focus();
		};
	}

	/* ---- sending ---- */

	/*
	 * "NICK text" after /msg: {to, text}, or null. A nick may hold spaces
	 * ("bob smith"), so the longest online nick that the line starts with
	 * wins; a nick not online is taken to be the first word (the server
	 * answers no_such_user if it is nobody).
	 */
	function splitPrivate(rest) {
		var best = null, i, n, m;

		for (i = 0; i < online.length; i++) {
			n = online[i];
			if (sameNick(rest.substring(0, n.length), n) &&
			    /^\s+\S/.test(rest.substring(n.length)) &&
			    (best === null || n.length > best.length))
				best = n;
		}
		if (best !== null)
			return { to: best, text: rest.substring(best.length)
			    .replace(/^\s+/, '') };
		m = /^(\S+)\s+([\s\S]*\S[\s\S]*)$/.exec(rest);
		return m ? { to: m[1], text: m[2] } : null;
	}

	function newClientId() {
		sendSeq++;
		return now().toString(36) + '-' +
		    Math.floor(Math.random() * 2147483647).toString(36) + '-' +
		    sendSeq;
	}

	function onSend() {
		var input = $('text'), value = input.value, m, msg;

		if (!me || /^\s*$/.test(value))
			return;
		m = /^\/join(?:\s+#?(\S+))?\s*$/.exec(value);
		if (m || /^\/join(\s|$)/.test(value)) {
			if (!m || !m[1]) {
				setText($('send-error'), 'Usage: /join ROOM');
				return;
			}
			input.value = '';
			switchRoom(m[1].toLowerCase());
			input.focus();
			return;
		}
		msg = { text: value, room: room, client_id: newClientId() };
		if (/^\/msg(\s|$)/.test(value)) {
			m = splitPrivate(value.replace(/^\/msg\s+/, ''));
			if (!m) {
				setText($('send-error'),
				    'Usage: /msg NICK text');
				return;
			}
			msg.to = m.to;
			msg.text = m.text;
		}
		msg.original = value;
		input.value = '';
		setText($('send-error'), '');
		sendQueue.push(msg);
		pumpSends();
		input.focus();
	}

	/* Send the queued messages one at a time, so they keep their order. */
	function pumpSends() {
		var msg, g = gen;

		if (sending || sendQueue.length === 0)
			return;
		sending = true;
		msg = sendQueue.shift();
		sendOne(msg, 0, function (status, body) {
			if (g !== gen)
				return;
			sending = false;
			if (status === 401) {
				sessionEnded();
				return;
			}
			if (status !== 200) {
				setText($('send-error'),
				    errorText(status, body, 'Not sent'));
				if ($('text').value === '')
					$('text').value = msg.original;
			}
			pumpSends();
		});
	}

	/* POST one message; retry a network failure once, same client_id. */
	function sendOne(msg, tries, done) {
		var params = { text: msg.text, room: msg.room, client_id: null };
		var g = gen;

		params.client_id = msg.client_id;
		if (msg.to)
			params.to = msg.to;
		request('POST', 'send', params, 20000, function (status, body) {
			if (status === 0 && tries === 0 && g === gen)
				setTimeout(function () {
					if (g === gen)
						sendOne(msg, 1, done);
				}, 1000);
			else
				done(status, body);
		});
	}

	/* ---- images ---- */

	/* Did the browser pass the upload to us as XMLHttpRequest 2 can? */
	function canPostFormData() {
		/* (Old Safari's FormData is an 'object', not a 'function'.) */
		return !!window.FormData && 'upload' in new XMLHttpRequest();
	}

	/* The answer to an upload, however it came. */
	function uploaded(g, status, body) {
		if (uploading === g) {
			uploading = 0;
			clearTimeout(uploadTimer);
			$('image-button').disabled = false;
		}
		if (g !== gen)
			return;
		if (status === 401) {
			sessionEnded();
			return;
		}
		if (status === 200 && body && body.image) {
			$('image-form').reset();
			setText($('image-error'), '');
		} else
			setText($('image-error'),
			    errorText(status, body, 'Not sent'));
	}

	/*
	 * Send the chosen image: with FormData where the browser has it;
	 * else let the form go to the hidden frame (returns true).
	 */
	function onImage() {
		var form = $('image-form'), xhr = null, g = gen;

		if (!me || uploading)
			return false;
		if (!$('image-file').value) {
			setText($('image-error'), 'Choose an image first.');
			return false;
		}
		$('image-csrf').value = csrf;
		$('image-room').value = room;
		$('image-client-id').value = newClientId();
		setText($('image-error'), '');
		$('image-button').disabled = true;
		uploading = g;
		/*
		 * An answer that never comes (or that the frame cannot show,
		 * such as an error nginx makes itself) frees the form after a
		 * minute; a late answer is then ignored.
		 */
		uploadTimer = setTimeout(function () {
			if (xhr) {
				xhr.onreadystatechange = noop;
				xhr.abort();
			}
			uploaded(g, 0, null);
		}, 60000);
		if (!canPostFormData())
			return true;
		xhr = new XMLHttpRequest();
		xhr.open('POST', API + 'image', true);
		xhr.setRequestHeader('X-CSRF-Token', csrf);
		xhr.onreadystatechange = function () {
			if (xhr.readyState !== 4)
				return;
			uploaded(g, xhr.status, parseJSON(xhr.responseText));
		};
		xhr.send(new window.FormData(form));
		return false;
	}

	/* The hidden frame loaded: the server's page holds the JSON answer. */
	function onFrameLoad() {
		var frame = $('upload-frame'), doc, el, body = null, status = 0;

		if (!uploading)
			return;
		try {
			doc = frame.contentWindow.document;
			el = doc.getElementById('result');
			if (el)
				body = parseJSON(el.innerText || el.textContent);
		} catch (e) {
		}
		if (body)
			status = body.error ? (body.error === 'no_session' ?
			    401 : 400) : 200;
		uploaded(uploading, status, body);
	}

	/* ---- start ---- */

	function init() {
		var saved = stored();

		$('login-form').onsubmit = handler(onLogin);
		$('send-form').onsubmit = handler(onSend);
		$('older').onclick = handler(loadOlder);
		window.onhashchange = function () {
			if (me)
				switchRoom(roomOfAddress());
		};
		$('image-form').onsubmit = function () {
			try {
				return onImage();
			} catch (e) {
				setTimeout(function () { throw e; }, 0);
				return false;
			}
		};
		if ($('upload-frame').attachEvent)
			$('upload-frame').attachEvent('onload', onFrameLoad);
		else
			$('upload-frame').onload = onFrameLoad;
		$('logout').onclick = handler(onLogout);
		if (saved && saved.indexOf('\n') > 0)
			resume(saved);
		else
			showLogin('');
	}

	init();
}());
