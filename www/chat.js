/*
 * chat.js: the browser side of chatd, for every browser that has
 * XMLHttpRequest or IE6's ActiveX one (no WebSocket, no fetch, no ES5:
 * plain ES3, like net.js, outbox.js and view.js, which it uses).
 *
 * A person logs in with a nick (POST api/login), which gives a CSRF token
 * and a cursor; the page then loads the room's recent history (GET
 * api/history) and long-polls (GET api/poll?since=CURSOR), polling again
 * at once with each cursor it is given. When a request fails it retries
 * the same cursor after a backoff of at most 10 s with jitter, says so in
 * the status bar with a "Retry now" button, tries again at once when the
 * browser says it is online again or the window gets the focus, and
 * clears the status as soon as any request is answered. Typed lines go
 * through the outbox (outbox.js), which loses none; the view (view.js)
 * shows them as pending until their event comes.
 *
 * A reload keeps the session: the nick and CSRF token live in
 * sessionStorage (the session itself is the HttpOnly cookie); a page that
 * does not have them (a second tab) asks the server (GET api/session),
 * and so does a reload, for its cursor. A page that goes away says so
 * (POST api/away), so that the server frees the nick soon after the last
 * tab closes unless another request of the session comes first.
 *
 * The room list holds the rooms this tab has been in; every 10 s a page of
 * each other room's history says how many lines came there since the
 * person left it (a poll follows one room only).
 *
 * The panes are sized here, from the window's size (no box is sized by
 * two opposite offsets, which IE6 cannot do); below 640 px wide the body
 * gets the class "narrow" and the rooms and online list fold behind the
 * "N online" button.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
(function () {
	var chatd = window.chatd, net = chatd.net, outbox = chatd.outbox;
	var view = chatd.view, setText = view.setText, setClass = view.setClass;
	var POLL_WAIT = 25;	/* seconds the server may hold a poll */
	var POLL_SLACK = 5;	/* seconds more before the page gives up */
	var RETRY_CAP = 10000;	/* ms: the longest wait between two polls */
	var MAX_TEXT = 2000;	/* characters in a line (docs/api.md) */
	var NARROW = 640;	/* px: below this, the phone layout */
	var STORE_KEY = 'chatd';
	var ROOMS_KEY = 'chatd.rooms';
	var ROOM_RE = /^[a-z0-9-]{1,32}$/;
	var OLDER_PAGE = 50;	/* events per "Earlier messages" */

	var room = 'lobby';	/* the room shown */
	var viewGen = 0;	/* bumped at every room switch */
	var beginning = false;	/* nothing older in the room's history */
	var me = null;		/* our nick, null when logged out */
	var cursor = 0;		/* where the next poll starts */
	var gen = 0;		/* bumped at every login and logout */
	var pollReq = null, pollTimer = null, pollTries = 0;
	var pollWaiting = null;	/* the poll to start when retrying now */
	var trouble = false;	/* the status bar says something is wrong */
	var usersBusy = -1, usersAgain = false;
	var online = [];	/* nicks in the last user list */
	var loggingIn = false;
	var ended = false;	/* a session ended under us: ask at login */
	var uploading = 0;	/* gen of the upload under way, or 0 */
	var uploadTimer = null;
	var rooms = [];		/* rooms this tab has been in */
	var roomSeen = {};	/* room: the newest id read there */
	var roomUnread = {};	/* room: lines from others since then */
	var roomTimer = null;
	var ROOM_CHECK = 10000;	/* ms between looks at the other rooms */
	var delivered = [];	/* {id, item}: sent, event not seen yet */
	var typed = [], typedAt = 0;	/* input history, Up and Down */
	var unread = 0, focused = true;
	var panelOpen = true, narrow = false;

	function $(id) {
		return document.getElementById(id);
	}

	function show(el, on) {
		setClass(el, 'off', !on);
	}

	function isShown(el) {
		return (' ' + el.className + ' ').indexOf(' off ') < 0;
	}

	/* A handler that never lets the browser submit the form. */
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

	/* Characters as the server counts them (code points). */
	function length(s) {
		var pairs = s.match(/[\ud800-\udbff][\udc00-\udfff]/g);

		return s.length - (pairs ? pairs.length : 0);
	}

	function trimmed(s) {
		return String(s).replace(/^\s+|\s+$/g, '');
	}

	/* ---- layout ---- */

	function viewport() {
		var d = document.documentElement, b = document.body;

		return { w: d && d.clientWidth ? d.clientWidth : b.clientWidth,
		    h: window.innerHeight || (d && d.clientHeight ?
		    d.clientHeight : b.clientHeight) };
	}

	/* Size the panes to the window. */
	function layout() {
		var vp = viewport(), panel = $('users-panel'), main = $('main');
		var top, h, send = $('send-form'), w;

		narrow = vp.w < NARROW;
		setClass(document.body, 'narrow', narrow);
		setClass(document.body, 'wide', !narrow);
		if (!isShown($('chat')))
			return;
		show(panel, panelOpen);
		setClass($('users-toggle'), 'open', panelOpen);
		top = $('bar').offsetHeight +
		    (isShown($('status-bar')) ? $('status-bar').offsetHeight : 0);
		panel.style.height = '';
		if (narrow) {
			main.style.width = vp.w + 'px';
			if (panelOpen && panel.offsetHeight > vp.h * 0.4)
				panel.style.height = Math.floor(vp.h * 0.4) -
				    20 + 'px';
			if (panelOpen)
				top += panel.offsetHeight;
		} else {
			w = panelOpen ? panel.offsetWidth : 0;
			main.style.width = Math.max(200, vp.w - w) + 'px';
			if (panelOpen)
				panel.style.height = Math.max(50,
				    vp.h - top - 20) + 'px';
		}
		$('text').style.width = Math.max(60, send.clientWidth -
		    $('send-button').offsetWidth - 40) + 'px';
		$('image-file').style.width = Math.max(60,
		    $('image-form').clientWidth - $('image-button').offsetWidth -
		    (narrow ? 0 : $('image-label').offsetWidth) - 50) + 'px';
		h = vp.h - top - send.offsetHeight - $('image-form').offsetHeight;
		$('new-below').style.bottom = send.offsetHeight +
		    $('image-form').offsetHeight + 10 + 'px';
		$('messages').style.height = Math.max(60, h - 16) + 'px';
		view.reflow();
	}

	function togglePanel() {
		panelOpen = !panelOpen;
		layout();
	}

	/* ---- status ---- */

	function setStatus(s, canRetry) {
		setText($('status'), s);
		show($('retry'), !!canRetry);
		if (isShown($('status-bar')) !== !!s) {
			show($('status-bar'), !!s);
			layout();
		}
	}

	/* Something failed: say so, with a way to retry at once. */
	function troubled(status) {
		trouble = true;
		setStatus(status ? 'Server trouble; retrying\u2026' :
		    'Connection lost; retrying\u2026', true);
	}

	/* Any answer from chatd: the connection is back. */
	function answered(status) {
		if (status >= 500 || !trouble)
			return;
		trouble = false;
		setStatus('');
		retryNow();
	}

	/* Try what waits for a retry now: the poll, the outbox, the list. */
	function retryNow() {
		var p = pollWaiting;

		if (p) {
			clearTimeout(pollTimer);
			pollWaiting = null;
			p();
		}
		outbox.kick();
		if (me && usersAgain && usersBusy !== gen)
			refreshUsers(gen);
	}

	/* ---- the title: what is unread while the page is not looked at ---- */

	function hidden() {
		if (typeof document.hidden === 'boolean' && document.hidden)
			return true;
		return !focused;
	}

	function title() {
		document.title = (unread ? '(' + unread + ') ' : '') +
		    (me ? '#' + room + ' - ' : '') + 'chatd';
	}

	function seenAll() {
		if (unread && !hidden()) {
			unread = 0;
			title();
		}
	}

	/* ---- views ---- */

	function showLogin(message) {
		show($('chat'), false);
		show($('login-form'), true);
		setText($('login-error'), message);
		unread = 0;
		title();
		layout();
		try {
			$('nick').focus();
		} catch (e) {
		}
	}

	function showChat() {
		show($('login-form'), false);
		show($('chat'), true);
		setText($('login-error'), '');
		setText($('send-error'), '');
		setText($('my-nick'), me);
		setText($('room-name'), room);
		title();
		layout();
		try {
			$('text').focus();
		} catch (e) {
		}
	}

	/* ---- sessions ---- */

	function onLogin() {
		var nick = trimmed($('nick').value);

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
		net.csrf = null;
		net.request('POST', 'login', { nick: nick }, 20000,
		    function (status, body) {
			loggingIn = false;
			$('login-button').disabled = false;
			if (status === 200 && body && body.csrf) {
				startSession(body.nick || nick, body.csrf,
				    body.cursor || 0, true);
			} else {
				setText($('login-error'),
				    net.errorText(status, body, 'Login failed'));
				$('nick').focus();
			}
		});
	}

	/*
	 * Enter the chat as nick with the given CSRF token; the first poll
	 * starts at cursor, or (null) after the history shown.
	 */
	function startSession(nick, token, from, fresh) {
		var g;

		gen++;
		g = gen;
		me = nick;
		view.me = nick;
		net.csrf = token;
		room = roomOfAddress();
		pollTries = 0;
		net.save(STORE_KEY, nick + '\n' + token);
		view.clear();
		setText($('users'), '');
		setCount(0);
		setStatus('');
		trouble = false;
		visit(room);
		showChat();
		refreshUsers(gen);
		clearTimeout(roomTimer);
		roomTimer = setTimeout(function () { checkRooms(g); }, ROOM_CHECK);
		if (fresh && ended && outbox.holdTried())
			renderOutbox();
		ended = false;
		outbox.start();
		loadHistory(g, viewGen, 0, function () {
			cursor = from != null ? from : view.lastId;
			poll(g, viewGen);
		});
	}

	/* Stop everything of the session; the outbox keeps its lines. */
	function stopSession() {
		gen++;
		clearTimeout(roomTimer);
		if (pollReq)
			pollReq.abort();
		pollReq = null;
		clearTimeout(pollTimer);
		pollWaiting = null;
		outbox.stop();
		me = null;
		view.me = null;
		net.csrf = null;
		uploading = 0;
		clearTimeout(uploadTimer);
		$('image-button').disabled = false;
		net.save(STORE_KEY, null);
		delivered = [];
		view.clear();
		setText($('users'), '');
	}

	/* The server says the session is over (401): back to the login. */
	function sessionEnded() {
		stopSession();
		ended = true;
		showLogin(outbox.items.length ?
		    'Your session has ended. Log in again to send the ' +
		    'lines still waiting.' :
		    'Your session has ended. Please log in again.');
	}

	function onLogout() {
		/* The request carries the token; the page does not wait. */
		net.request('POST', 'logout', {}, 10000, net.noop);
		stopSession();
		outbox.clear();
		ended = false;
		showLogin('');
	}

	/*
	 * A page without a session of its own (a reload, a second tab): if
	 * the cookie's session lives, go on with it (no new join is written).
	 * saved: the nick and token this tab kept, or null.
	 */
	function resume(saved) {
		net.request('GET', 'session', {}, 20000, function (status, body) {
			var i;

			if (status === 200 && body && body.csrf) {
				startSession(body.nick, body.csrf,
				    saved ? null : body.cursor, false);
				return;
			}
			if (status === 404 && saved) {
				/* A server without api/session. */
				i = String(saved).indexOf('\n');
				startSession(saved.substring(0, i),
				    saved.substring(i + 1), null, false);
				return;
			}
			if (saved)
				ended = true;
			net.save(STORE_KEY, null);
			showLogin(saved && status === 401 ?
			    'Your session has ended. Please log in again.' :
			    status && status !== 401 ? net.errorText(status,
			    body, 'The server failed') : '');
		});
	}

	/*
	 * The page goes away (closed, reloaded, navigated): tell the server,
	 * which ends the session after a short grace unless another request
	 * of it comes first (a reload, another tab).
	 */
	function onUnload() {
		var data;

		if (!me || !net.csrf)
			return;
		data = 'csrf=' + encodeURIComponent(net.csrf);
		try {
			if (window.navigator.sendBeacon &&
			    window.Blob && window.navigator.sendBeacon(
			    net.API + 'away', new window.Blob([data],
			    { type: 'application/x-www-form-urlencoded' })))
				return;
		} catch (e) {
		}
		net.request('POST', 'away', { csrf: net.csrf }, 2000, net.noop,
		    true);
	}

	/* ---- rooms ---- */

	/* The room named in the address (#NAME), or lobby. */
	function roomOfAddress() {
		var h = String(window.location.hash || '').replace(/^#/, '');

		return ROOM_RE.test(h) ? h : 'lobby';
	}

	/* Remember that this tab has been in room r, and show the list. */
	function visit(r) {
		var i, found = false;

		for (i = 0; i < rooms.length; i++)
			if (rooms[i] === r)
				found = true;
		if (!found) {
			rooms.push(r);
			rooms.sort();
			net.save(ROOMS_KEY, rooms.join(','));
		}
		renderRooms();
	}

	function renderRooms() {
		var ul = $('rooms'), i, li;

		setText(ul, '');
		for (i = 0; i < rooms.length; i++) {
			li = view.addChild(ul, 'li', rooms[i] === room ?
			    'current' : '', '#' + rooms[i]);
			if (rooms[i] !== room && roomUnread[rooms[i]])
				view.addChild(li, 'span', 'unread',
				    ' (' + roomUnread[rooms[i]] + ')');
			li.onclick = roomClick(rooms[i]);
		}
	}

	/*
	 * The unread lines of the other rooms this tab has been in: a page of
	 * each one's history every few seconds (a poll follows one room only).
	 */
	function checkRooms(g) {
		var i, left = 0;

		if (g !== gen)
			return;
		for (i = 0; i < rooms.length; i++)
			if (rooms[i] !== room && roomSeen[rooms[i]] != null) {
				left++;
				countUnread(g, rooms[i], function () {
					if (--left === 0)
						again();
				});
			}
		function again() {
			if (g === gen)
				roomTimer = setTimeout(function () {
					checkRooms(g);
				}, ROOM_CHECK);
		}
		if (left === 0)
			again();
	}

	function countUnread(g, r, then) {
		net.request('GET', 'history', { room: r, limit: OLDER_PAGE },
		    20000, function (status, body) {
			var i, ev, n = 0;

			if (g === gen && status === 200 && body && body.events &&
			    r !== room) {
				for (i = 0; i < body.events.length; i++) {
					ev = body.events[i];
					if (ev && ev.id > roomSeen[r] && ev.room === r &&
					    !view.sameNick(ev.from, me))
						n++;
				}
				if (n !== (roomUnread[r] || 0)) {
					roomUnread[r] = n;
					renderRooms();
				}
			}
			then();
		});
	}

	function roomClick(r) {
		return function () {
			switchRoom(r);
			if (narrow && panelOpen)
				togglePanel();
		};
	}

	function onRoomForm() {
		var name = trimmed($('room-input').value).replace(/^#/, '');

		name = name.toLowerCase();
		if (!ROOM_RE.test(name)) {
			setText($('send-error'), 'A room name is 1 to 32 of ' +
			    'a-z, 0-9 and -.');
			return;
		}
		$('room-input').value = '';
		switchRoom(name);
		if (narrow && panelOpen)
			togglePanel();
	}

	/* "Earlier messages": the page of history before the oldest shown. */
	function loadOlder() {
		if (!me)
			return;
		$('older').disabled = true;
		loadHistory(gen, viewGen, view.oldestId, function () {
			$('older').disabled = beginning;
		});
	}

	function resetOlder() {
		beginning = false;
		$('older').disabled = false;
		setText($('older'), 'Earlier messages');
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
		if (name === room || !me)
			return;
		v = ++viewGen;
		if (pollReq)
			pollReq.abort();
		pollReq = null;
		clearTimeout(pollTimer);
		pollWaiting = null;
		roomSeen[room] = view.lastId;
		roomUnread[room] = 0;
		room = name;
		roomUnread[room] = 0;
		view.clear();
		resetOlder();
		visit(room);
		renderOutbox();
		setText($('room-name'), room);
		title();
		try {
			window.location.hash = room === 'lobby' ? '' : room;
		} catch (e) {
		}
		loadHistory(g, v, 0, function () {
			poll(g, v);
		});
	}

	/* ---- events ---- */

	/* Is an answer asked for in session g and view v still wanted? */
	function current(g, v) {
		return g === gen && v === viewGen;
	}

	/* Show events; count the unread ones while the page is not seen. */
	function addEvents(events, live, older) {
		var i, ev, joins = false, n;

		for (i = 0; i < events.length; i++) {
			ev = events[i];
			if (ev && (ev.type === 'join' || ev.type === 'leave'))
				joins = true;
		}
		n = view.add(events, live, older);
		if (live && n && hidden()) {
			unread += n;
			title();
		}
		if (delivered.length)
			renderOutbox();
		if (joins && live)
			refreshUsers(gen);
	}

	/*
	 * Load a page of the room's history, the newest or (before, an id)
	 * the one before it, then call then().
	 */
	function loadHistory(g, v, before, then) {
		var params = { room: room, limit: OLDER_PAGE };

		if (before)
			params.before = before;
		net.request('GET', 'history', params, 20000,
		    function (status, body) {
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
			} else if (before)
				setText($('send-error'),
				    'Could not load earlier messages.');
			then();
		});
	}

	/*
	 * The long poll: wait for events after cursor, show them, poll again
	 * with the new cursor. On failure retry the same cursor after a
	 * backoff (1 s doubling, at most 10 s, with jitter), or at once when
	 * retryNow() says so.
	 */
	function poll(g, v) {
		var started = net.now();

		if (!current(g, v))
			return;
		pollReq = net.request('GET', 'poll',
		    { since: cursor, room: room, timeout: POLL_WAIT },
		    (POLL_WAIT + POLL_SLACK) * 1000, function (status, body) {
			var again = function () { poll(g, v); };

			pollReq = null;
			if (!current(g, v))
				return;
			if (status === 401) {
				sessionEnded();
				return;
			}
			if (status === 200 && body && body.events) {
				pollTries = 0;
				addEvents(body.events, true);
				if (body.cursor != null)
					cursor = body.cursor;
				/* An empty answer at once would spin: pause. */
				pollTimer = setTimeout(again,
				    body.events.length === 0 &&
				    net.now() - started < 1000 ? 1000 : 0);
				return;
			}
			troubled(status);
			pollWaiting = again;
			pollTimer = setTimeout(function () {
				pollWaiting = null;
				again();
			}, net.backoff(pollTries++, RETRY_CAP));
		});
	}

	/* ---- who is online ---- */

	function setCount(n) {
		setText($('user-count'), String(n));
		setText($('user-count-2'), String(n));
	}

	/* Fetch the online list; a second call while one runs fetches again. */
	function refreshUsers(g) {
		if (usersBusy === g) {
			usersAgain = true;
			return;
		}
		usersBusy = g;
		usersAgain = false;
		net.request('GET', 'users', {}, 20000, function (status, body) {
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
			li = view.addChild(ul, 'li', (view.sameNick(u.nick, me) ?
			    'me ' : '') + view.colour(u.nick), String(u.nick));
			li.title = 'Click to send ' + u.nick +
			    ' a private message' + (u.idle != null ?
			    ' (idle ' + u.idle + ' s)' : '');
			li.onclick = privateTo(String(u.nick));
		}
		setCount(body.count != null ? body.count : users.length);
		if (narrow && panelOpen)
			layout();
	}

	/* A click handler that starts a private conversation with nick. */
	function privateTo(nick) {
		return function () {
			var input = $('text');

			input.value = '/msg ' + nick + ' ';
			if (narrow && panelOpen)
				togglePanel();
			input.focus();
			onTyping();
		};
	}

	/* ---- sending ---- */

	/*
	 * "NICK text" after /msg: {to, text}, or null. A nick may hold spaces
	 * ("bob smith"), so the longest online nick that the line starts with
	 * wins; a nick not online is taken to be the first word (the server
	 * answers no_such_user if it is nobody). bare: the text may be empty.
	 */
	function splitPrivate(rest, bare) {
		var best = null, i, n, m, after;

		for (i = 0; i < online.length; i++) {
			n = online[i];
			after = rest.substring(n.length);
			if (view.sameNick(rest.substring(0, n.length), n) &&
			    (/^\s+\S/.test(after) || (bare && /^\s*$/.test(after))) &&
			    (best === null || n.length > best.length))
				best = n;
		}
		if (best !== null)
			return { to: best, text: rest.substring(best.length)
			    .replace(/^\s+/, '') };
		m = (bare ? /^(\S+)\s*([\s\S]*)$/ :
		    /^(\S+)\s+([\s\S]*\S[\s\S]*)$/).exec(rest);
		return m ? { to: m[1], text: m[2] } : null;
	}

	/* Who an image goes to: the nick of a "/msg NICK" being typed. */
	function imageTarget() {
		var v = $('text').value, m;

		if (!/^\/msg\s+\S/.test(v))
			return null;
		m = splitPrivate(v.replace(/^\/msg\s+/, ''), true);
		return m ? m.to : null;
	}

	/* The input changed: the counter, and whom an image would go to. */
	function onTyping() {
		var n = length($('text').value), c = $('counter'), to;

		setText(c, n > MAX_TEXT - 200 ? (n > MAX_TEXT ?
		    (n - MAX_TEXT) + ' over ' + MAX_TEXT :
		    (MAX_TEXT - n) + ' left') : '');
		setClass(c, 'over', n > MAX_TEXT);
		to = imageTarget();
		setText($('image-label'), to ? 'Image to ' + to : 'Image');
	}

	function onSend() {
		var input = $('text'), value = input.value, m, text, to = null;

		if (!me || /^\s*$/.test(value))
			return;
		m = /^\/join(?:\s+([\s\S]*))?$/.exec(value);
		if (m) {
			text = trimmed(m[1] || '').replace(/^#/, '').toLowerCase();
			if (!text) {
				setText($('send-error'), 'Usage: /join ROOM');
				return;
			}
			if (!ROOM_RE.test(text)) {
				switchRoom(text);	/* which says what is wrong */
				return;
			}
			remember(value);
			input.value = '';
			switchRoom(text);
			input.focus();
			return;
		}
		text = value;
		if (/^\/msg(\s|$)/.test(value)) {
			m = splitPrivate(value.replace(/^\/msg\s*/, ''), false);
			if (!m) {
				setText($('send-error'),
				    'Usage: /msg NICK text');
				return;
			}
			to = m.to;
			text = m.text;
		}
		if (length(text) > MAX_TEXT) {
			setText($('send-error'), 'A line holds at most ' +
			    MAX_TEXT + ' characters; this one has ' +
			    length(text) + '.');
			return;
		}
		remember(value);
		/* Keep "/msg NICK " for the next line of the conversation. */
		input.value = to ? '/msg ' + to + ' ' : '';
		setText($('send-error'), '');
		outbox.add(value, text, room, to);
		onTyping();
		input.focus();
	}

	/* Input history: a line typed, for Up and Down. */
	function remember(line) {
		if (typed.length === 0 || typed[typed.length - 1] !== line)
			typed.push(line);
		if (typed.length > 100)
			typed.shift();
		typedAt = typed.length;
	}

	function onKey(e) {
		var input = $('text'), key;

		e = e || window.event;
		key = e.keyCode;
		if (key !== 38 && key !== 40)
			return true;
		if (key === 38 && typedAt > 0)
			typedAt--;
		else if (key === 40 && typedAt < typed.length)
			typedAt++;
		else
			return true;
		input.value = typedAt < typed.length ? typed[typedAt] : '';
		onTyping();
		return false;
	}

	/* The outbox changed, or a line it delivered was seen: show it. */
	function renderOutbox() {
		var box = $('outbox'), i, it, el, keep = [], held = 0, follow;

		follow = view.follow;
		for (i = 0; i < delivered.length; i++)
			if (!view.seen[delivered[i].id])
				keep.push(delivered[i]);
		delivered = keep;
		setText(box, '');
		for (i = 0; i < delivered.length; i++)
			pendingLine(box, delivered[i].item, 'pending');
		for (i = 0; i < outbox.items.length; i++) {
			it = outbox.items[i];
			el = pendingLine(box, it, it.state === 'queued' ?
			    'pending' : it.state);
			if (it.state === 'failed')
				failedLine(el, it);
			if (it.state === 'held')
				held++;
		}
		if (held)
			heldQuestion(box, held);
		if (follow)
			view.toBottom();
	}

	function pendingLine(box, it, state) {
		var el = view.addChild(box, 'div', 'line ' + state, '');

		el.setAttribute('data-cid', it.cid);
		view.addChild(el, 'span', 'from', (it.to ? me + ' \u2192 ' +
		    it.to + ':' : me) + (it.room !== room && !it.to ?
		    ' (#' + it.room + ')' : ''));
		el.appendChild(document.createTextNode(' '));
		view.addChild(el, 'span', 'text', it.text);
		view.addChild(el, 'span', 'state', state === 'pending' ?
		    'sending\u2026' : it.reason);
		return el;
	}

	function button(parent, cls, label, fn) {
		var b = view.addChild(parent, 'button', cls, label);

		b.type = 'button';
		b.onclick = handler(fn);
		return b;
	}

	function failedLine(el, it) {
		button(el, 'edit', 'Edit', function () {
			var gone = outbox.remove(it.cid);

			if (gone) {
				$('text').value = gone.line;
				onTyping();
				$('text').focus();
			}
		});
		button(el, 'resend', 'Resend', function () {
			outbox.resend(it.cid);
		});
		button(el, 'drop', 'Drop', function () {
			outbox.remove(it.cid);
		});
	}

	function heldQuestion(box, n) {
		var el = view.addChild(box, 'div', 'held-question',
		    (n === 1 ? 'This line' : 'These ' + n + ' lines') +
		    ' may already have been sent before your session ended. ');

		button(el, 'resend-held', 'Send again', outbox.releaseHeld);
		button(el, 'drop-held', 'Drop', outbox.dropHeld);
	}

	/* ---- images ---- */

	/* Can the browser post a form's file by script (XMLHttpRequest 2)? */
	function canPostFormData() {
		var xhr;

		if (!window.FormData)
			return false;
		xhr = net.createXHR();
		return !!xhr && 'upload' in xhr;
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
			    net.errorText(status, body, 'Not sent'));
	}

	/*
	 * Send the chosen image: with FormData where the browser has it;
	 * else let the form go to the hidden frame (returns true).
	 */
	function onImage() {
		var form = $('image-form'), xhr = null, g = gen, to;

		if (!me || uploading)
			return false;
		if (!$('image-file').value) {
			setText($('image-error'), 'Choose an image first.');
			return false;
		}
		to = imageTarget();
		$('image-csrf').value = net.csrf;
		$('image-room').value = room;
		$('image-to').value = to || '';
		/* An empty field would be a "to" of nobody. */
		$('image-to').disabled = !to;
		$('image-room').disabled = !!to;
		$('image-client-id').value = outbox.newId();
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
				xhr.onreadystatechange = net.noop;
				xhr.abort();
			}
			uploaded(g, 0, null);
		}, 60000);
		if (!canPostFormData())
			return true;
		xhr = net.createXHR();
		xhr.open('POST', net.API + 'image', true);
		xhr.setRequestHeader('X-CSRF-Token', net.csrf);
		xhr.onreadystatechange = function () {
			if (xhr.readyState !== 4)
				return;
			if (xhr.status)
				answered(xhr.status);
			uploaded(g, xhr.status, net.parseJSON(xhr.responseText));
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
				body = net.parseJSON(el.innerText ||
				    el.textContent);
		} catch (e) {
		}
		if (body)
			status = body.error ? (body.error === 'no_session' ?
			    401 : 400) : 200;
		uploaded(uploading, status, body);
	}

	/* ---- start ---- */

	function on(el, name, fn) {
		if (el.attachEvent)
			el.attachEvent('on' + name, fn);
		else
			el['on' + name] = fn;
	}

	function init() {
		var saved = net.load(STORE_KEY), r = net.load(ROOMS_KEY), i;

		if (r)
			r = r.split(',');
		for (i = 0; r && i < r.length; i++)
			if (ROOM_RE.test(r[i]))
				rooms.push(r[i]);
		net.onAnswer = answered;
		outbox.restore();
		outbox.onChange = renderOutbox;
		outbox.onDelivered = function (item, id) {
			if (!view.seen[id])
				delivered.push({ id: id, item: item });
		};
		outbox.onSessionEnded = sessionEnded;
		outbox.onWait = function (ms, status) {
			if (status !== 429)
				troubled(status);
		};
		$('login-form').onsubmit = handler(onLogin);
		$('send-form').onsubmit = handler(onSend);
		$('room-form').onsubmit = handler(onRoomForm);
		$('older').onclick = handler(loadOlder);
		$('retry').onclick = handler(retryNow);
		$('users-toggle').onclick = handler(togglePanel);
		$('new-below').onclick = handler(view.toBottom);
		$('messages').onscroll = view.onScroll;
		$('text').onkeydown = onKey;
		$('text').onkeyup = onTyping;
		$('text').oninput = onTyping;
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
		on($('upload-frame'), 'load', onFrameLoad);
		$('logout').onclick = handler(onLogout);
		window.onresize = layout;
		window.ononline = retryNow;
		window.onoffline = function () {
			if (me) {
				trouble = true;
				setStatus('Offline; waiting for the network\u2026',
				    true);
			}
		};
		window.onfocus = function () {
			focused = true;
			seenAll();
			if (trouble)
				retryNow();
		};
		window.onblur = function () {
			focused = false;
		};
		document.onvisibilitychange = seenAll;
		window.onpagehide = onUnload;
		window.onbeforeunload = function () {
			onUnload();
			window.onpagehide = null;
		};
		panelOpen = viewport().w >= NARROW;
		renderOutbox();
		resume(saved);
	}

	init();
}());
