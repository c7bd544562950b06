/*
 * view.js: the conversation as the page shows it. Plain ES3.
 *
 * Each event becomes one element of #log, in id order, built from text
 * nodes only (text from the server is never parsed as HTML); links (http
 * and https only) are built <a> nodes. A sender's nick has a colour of its
 * own, consecutive lines of one sender are grouped, a day separator goes
 * where the date changes, the reader's own lines and the lines that name
 * the reader are marked. Runs of joins and leaves are folded into one
 * compact line. The view stays at the bottom as events and images arrive
 * (again after each image loads) unless the reader has scrolled up; then
 * a "New messages below" marker takes them down.
 *
 * It defines window.chatd.view; chat.js calls it.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
(function () {
	var chatd = window.chatd || (window.chatd = {});
	var net = chatd.net;
	var MAX_EVENTS = 1000;	/* events kept in the page */
	var GROUP_MS = 5 * 60 * 1000;	/* lines closer than this group */
	var COLOURS = 8;
	var IMAGE_MAX = 320;	/* px: the widest an image is shown */
	var IMAGE_HIGH = 240;	/* px: the highest */
	var LINK_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
	var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug',
	    'Sep', 'Oct', 'Nov', 'Dec'];
	var lastTop = 0;	/* the list's scrollTop at the last scroll */
	var view = {
		me: null,	/* the reader's nick */
		seen: {},	/* ids of the events shown */
		lastId: 0,	/* newest event id shown */
		oldestId: 0,	/* oldest event id shown, 0 if none */
		follow: true	/* keep the view at the bottom */
	};

	function $(id) {
		return document.getElementById(id);
	}

	function pad2(n) {
		return n < 10 ? '0' + n : String(n);
	}

	/* Add or remove the class c of el. */
	function setClass(el, c, on) {
		var s = ' ' + el.className + ' ', has = s.indexOf(' ' + c + ' ') >= 0;

		if (on && !has)
			el.className = el.className ? el.className + ' ' + c : c;
		else if (!on && has)
			el.className = s.replace(' ' + c + ' ', ' ').
			    replace(/^\s+|\s+$/g, '');
	}
	view.setClass = setClass;

	function hasClass(el, c) {
		return (' ' + el.className + ' ').indexOf(' ' + c + ' ') >= 0;
	}

	/* Replace the contents of el with the text s (never parsed as HTML). */
	view.setText = function (el, s) {
		while (el.firstChild)
			el.removeChild(el.firstChild);
		if (s)
			el.appendChild(document.createTextNode(s));
	};

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
	view.addChild = addChild;

	view.sameNick = function (a, b) {
		return a != null && b != null &&
		    String(a).toLowerCase() === String(b).toLowerCase();
	};

	/* The colour class of a nick: the same nick, the same colour. */
	view.colour = function (nick) {
		var s = String(nick).toLowerCase(), h = 0, i;

		for (i = 0; i < s.length; i++)
			h = (h * 31 + s.charCodeAt(i)) % 65521;
		return 'nick-c' + h % COLOURS;
	};

	/*
	 * Append s to el as text, with each http or https address in it as a
	 * link that opens apart from the chat and tells it nothing.
	 */
	function addText(el, s) {
		var m, at = 0, a, url;

		LINK_RE.lastIndex = 0;
		while ((m = LINK_RE.exec(s)) !== null) {
			url = m[0].replace(/[.,;:!?)\]]+$/, '');
			if (m.index > at)
				el.appendChild(document.createTextNode(
				    s.substring(at, m.index)));
			a = addChild(el, 'a', 'link', url);
			a.href = url;
			a.target = '_blank';
			a.rel = 'noopener noreferrer';
			at = m.index + url.length;
			LINK_RE.lastIndex = at;
		}
		if (at < s.length)
			el.appendChild(document.createTextNode(s.substring(at)));
	}

	/* Does text name nick (as a word of its own)? */
	function names(text, nick) {
		var t = String(text).toLowerCase(), n = String(nick).toLowerCase();
		var i = t.indexOf(n), before, after;

		while (i >= 0) {
			before = i === 0 ? ' ' : t.charAt(i - 1);
			after = t.charAt(i + n.length) || ' ';
			if (!/[a-z0-9_]/.test(before) && !/[a-z0-9_]/.test(after))
				return true;
			i = t.indexOf(n, i + 1);
		}
		return false;
	}

	function formatTime(ts) {
		var d = new Date(ts);

		return pad2(d.getHours()) + ':' + pad2(d.getMinutes());
	}

	function dayOf(ts) {
		var d = new Date(ts);

		return d.getFullYear() * 10000 + d.getMonth() * 100 + d.getDate();
	}

	function dayText(ts) {
		var d = new Date(ts), today = new Date();

		if (dayOf(ts) === dayOf(today.getTime()))
			return 'Today';
		return d.getDate() + ' ' + MONTHS[d.getMonth()] + ' ' +
		    d.getFullYear();
	}

	/* Keep img within the list's width, where max-width is unknown too. */
	function bound(img) {
		var list = $('messages'), max, w, h;

		w = img.naturalWidth || img.width;
		h = img.naturalHeight || img.height;
		max = Math.min(IMAGE_MAX, list.clientWidth - 40);
		if (max > 0 && w > max) {
			h = Math.round(h * max / w);
			w = max;
		}
		if (h > IMAGE_HIGH) {
			w = Math.round(w * IMAGE_HIGH / h);
			h = IMAGE_HIGH;
		}
		img.style.width = w + 'px';
		img.style.height = h + 'px';
	}

	/* An image element for ev, that keeps the view following on load. */
	function image(ev) {
		var img = document.createElement('img');

		img.onload = function () {
			bound(img);
			if (view.follow)
				view.toBottom();
		};
		img.src = net.API + 'image/' + encodeURIComponent(ev.image);
		img.alt = 'image from ' + ev.from;
		return img;
	}

	/* The element for one event, or null for a kind this page ignores. */
	view.render = function (ev) {
		var el = document.createElement('div'), t, body;
		var from = String(ev.from);

		el.className = 'event ' + ev.type;
		el.setAttribute('data-id', String(ev.id));
		el.setAttribute('data-from', from.toLowerCase());
		el.setAttribute('data-ts', String(ev.ts || 0));
		if (ev.ts) {
			t = addChild(el, 'span', 'time', formatTime(ev.ts));
			t.title = new Date(ev.ts).toString();
			el.appendChild(document.createTextNode(' '));
		}
		switch (ev.type) {
		case 'message':
			addChild(el, 'span', 'from ' + view.colour(from), from);
			break;
		case 'private':
		case 'image':
			addChild(el, 'span', 'from ' + view.colour(from),
			    ev.to ? from + ' \u2192 ' + ev.to + ':' : from);
			if (ev.to)
				setClass(el, 'to-one', true);
			break;
		case 'join':
			addChild(el, 'span', 'notice', from + ' joined');
			return el;
		case 'leave':
			addChild(el, 'span', 'notice', from + ' left' +
			    (ev.text && ev.text !== 'logout' ?
			    ' (' + ev.text + ')' : ''));
			return el;
		default:
			return null;
		}
		if (view.sameNick(from, view.me))
			setClass(el, 'mine', true);
		else if (view.me && ev.text && names(ev.text, view.me))
			setClass(el, 'mention', true);
		el.appendChild(document.createTextNode(' '));
		if (ev.type === 'image')
			el.appendChild(image(ev));
		else {
			body = addChild(el, 'span', 'text', '');
			addText(body, String(ev.text));
		}
		return el;
	};

	/* The id of a node of #log (events and separators alike). */
	function idOf(node) {
		return Number(node.getAttribute('data-id'));
	}

	/* Put el into #log in id order (it is nearly always last). */
	function insert(el, id) {
		var log = $('log'), next = null, node = log.lastChild;

		while (node && idOf(node) > id) {
			next = node;
			node = node.previousSibling;
		}
		log.insertBefore(el, next);
		return next === null;
	}

	/* Trim the oldest events when there are too many (they can be reloaded). */
	function trim() {
		var log = $('log'), node;

		while (log.childNodes.length > MAX_EVENTS) {
			node = log.firstChild;
			if (hasClass(node, 'event'))
				delete view.seen[node.getAttribute('data-id')];
			log.removeChild(node);
		}
		node = log.firstChild;
		while (node && !hasClass(node, 'event'))
			node = node.nextSibling;
		view.oldestId = node ? idOf(node) : 0;
	}

	function isNotice(node) {
		return hasClass(node, 'join') || hasClass(node, 'leave');
	}

	/*
	 * Day separators, groups of one sender, and runs of joins and leaves
	 * folded to one line: recomputed over #log after every change.
	 */
	function decorate() {
		var log = $('log'), node, nextNode, prev = null, day, ts, d, run = [];

		for (node = log.firstChild; node; node = nextNode) {
			nextNode = node.nextSibling;
			if (hasClass(node, 'day') || hasClass(node, 'fold')) {
				log.removeChild(node);
				continue;
			}
		}
		for (node = log.firstChild; node; node = node.nextSibling) {
			ts = Number(node.getAttribute('data-ts'));
			if (ts) {
				d = dayOf(ts);
				if (d !== day) {
					separator(log, node, ts);
					day = d;
					prev = null;
				}
			}
			setClass(node, 'cont', !!(prev && !isNotice(node) &&
			    !isNotice(prev) &&
			    prev.getAttribute('data-from') ===
			    node.getAttribute('data-from') &&
			    hasClass(prev, 'to-one') === hasClass(node, 'to-one') &&
			    ts - Number(prev.getAttribute('data-ts')) < GROUP_MS));
			if (isNotice(node))
				run.push(node);
			else {
				fold(log, run);
				run = [];
			}
			prev = node;
		}
		fold(log, run);
	}

	function separator(log, before, ts) {
		var el = document.createElement('div');

		el.className = 'day';
		el.setAttribute('data-id', String(idOf(before) - 0.5));
		addChild(el, 'span', '', dayText(ts));
		log.insertBefore(el, before);
	}

	/*
	 * A run of more than three joins and leaves: one line that says who
	 * came and went, which shows the run when clicked.
	 */
	function fold(log, run) {
		var i, el, joined = [], left = [], s, open;

		if (run.length <= 3)
			return;
		open = hasClass(run[0], 'unfolded');
		for (i = 0; i < run.length; i++) {
			(hasClass(run[i], 'join') ? joined : left).push(
			    run[i].getAttribute('data-from'));
			setClass(run[i], 'folded', !open);
		}
		s = '';
		if (joined.length)
			s = joined.length + ' joined';
		if (left.length)
			s += (s ? ', ' : '') + left.length + ' left';
		el = document.createElement('div');
		el.className = 'fold';
		el.setAttribute('data-id', String(idOf(run[0]) - 0.25));
		addChild(el, 'span', 'notice', s + (open ? ' (hide)' : ' (show)'));
		el.title = joined.concat(left).join(', ');
		el.onclick = function () {
			for (i = 0; i < run.length; i++)
				setClass(run[i], 'unfolded', !open);
			decorate();
		};
		log.insertBefore(el, run[0]);
	}

	/* Is the view at (or near) its bottom? */
	view.atBottom = function () {
		var list = $('messages');

		return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
	};

	view.toBottom = function () {
		var list = $('messages');

		list.scrollTop = list.scrollHeight;
		view.follow = true;
		view.marker(false);
	};

	/* Show or hide "New messages below". */
	view.marker = function (on) {
		setClass($('new-below'), 'off', !on);
	};

	/*
	 * The view scrolled: at the bottom it follows again; it stops only
	 * when it moved up (the reader), not when content moved under it.
	 */
	view.onScroll = function () {
		var top = $('messages').scrollTop;

		if (view.atBottom()) {
			view.follow = true;
			view.marker(false);
		} else if (top < lastTop)
			view.follow = false;
		lastTop = top;
	};

	/*
	 * Show the events not shown yet; return how many of them are lines
	 * (not joins or leaves) from others. live: they came from a poll.
	 * older: they go above what is shown, which stays where it is.
	 */
	view.add = function (events, live, older) {
		var list = $('messages'), i, ev, el, mine = false, n = 0;
		var height = list.scrollHeight, added = false, atEnd = false;

		for (i = 0; i < events.length; i++) {
			ev = events[i];
			if (!ev || ev.id == null || view.seen[ev.id])
				continue;
			view.seen[ev.id] = true;
			if (ev.id > view.lastId)
				view.lastId = ev.id;
			if (!view.oldestId || ev.id < view.oldestId)
				view.oldestId = ev.id;
			el = view.render(ev);
			if (!el)
				continue;
			if (insert(el, ev.id))
				atEnd = true;
			added = true;
			if (view.sameNick(ev.from, view.me))
				mine = true;
			else if (ev.type !== 'join' && ev.type !== 'leave')
				n++;
		}
		if (!added)
			return 0;
		if (!older)
			trim();
		decorate();
		if (older)
			list.scrollTop += list.scrollHeight - height;
		else if (view.follow || mine || !live)
			view.toBottom();
		else if (atEnd)
			view.marker(true);
		return n;
	};

	/* Empty #log for a new session or room. */
	view.clear = function () {
		view.setText($('log'), '');
		view.seen = {};
		view.lastId = 0;
		view.oldestId = 0;
		view.follow = true;
		view.marker(false);
	};

	/* Bound every image again (the list's width changed). */
	view.reflow = function () {
		var imgs = $('log').getElementsByTagName('img'), i;

		for (i = 0; i < imgs.length; i++) {
			imgs[i].style.width = '';
			imgs[i].style.height = '';
			if (imgs[i].complete)
				bound(imgs[i]);
		}
		if (view.follow)
			view.toBottom();
	};

	chatd.view = view;
}());
