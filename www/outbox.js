/*
 * outbox.js: the lines a person typed that the server has not yet taken.
 * Plain ES3.
 *
 * Every line goes in at the end, in typing order, with its client_id fixed
 * when it is typed, and the outbox is kept in sessionStorage (where the
 * browser has it), so a reload keeps it. Lines go out one at a time, the
 * oldest first (POST api/send). After a network error or a 5xx the same
 * line is sent again with the same client_id (the server writes it once),
 * after a capped exponential backoff with jitter; after a 429 the outbox
 * waits what Retry-After says. Only a permanent refusal (bad_text,
 * no_such_user, ...) stops a line: it stays, marked failed with the
 * server's reason, for the person to edit, resend or drop, and the lines
 * after it go on.
 *
 * A session that ended (401) stops the outbox but keeps it. At the next
 * login the lines that were already tried may have been written in the
 * old session, where their client_id no longer protects them: they are
 * held until the person says to send or drop them.
 *
 * It defines window.chatd.outbox; chat.js shows what it holds through the
 * hooks it sets (onChange, onDelivered, onSessionEnded, onWait).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
(function () {
	var chatd = window.chatd || (window.chatd = {});
	var net = chatd.net;
	var KEY = 'chatd.outbox';
	var CAP = 10000;	/* ms: the longest wait between two tries */
	var outbox = {
		items: [],	/* {cid, text, room, to, line, state, reason,
				   tried}; state queued, failed or held */
		onChange: net.noop,		/* (): items changed */
		onDelivered: net.noop,		/* (item, id): sent */
		onSessionEnded: net.noop,	/* (): a 401 */
		onWait: net.noop		/* (ms, status): retrying */
	};
	var live = false;	/* a session is there to send with */
	var gen = 0;		/* bumped at every stop: old answers dropped */
	var req = null;		/* the send under way */
	var timer = null;	/* the wait before the next try */
	var tries = 0;		/* failed tries of the line at the head */
	var seq = 0;

	function save() {
		net.save(KEY, outbox.items.length ?
		    net.toJSON(outbox.items) : null);
	}

	function changed() {
		save();
		outbox.onChange();
	}

	function find(cid) {
		var i;

		for (i = 0; i < outbox.items.length; i++)
			if (outbox.items[i].cid === cid)
				return i;
		return -1;
	}

	function next() {
		var i;

		for (i = 0; i < outbox.items.length; i++)
			if (outbox.items[i].state === 'queued')
				return outbox.items[i];
		return null;
	}

	/* A new client_id: time, randomness and a counter. */
	outbox.newId = function () {
		seq++;
		return net.now().toString(36) + '-' +
		    Math.floor(Math.random() * 2147483647).toString(36) + '-' +
		    seq;
	};

	/* Is a permanent refusal: the same line would be refused again. */
	function permanent(status) {
		return status >= 400 && status < 500 && status !== 401 &&
		    status !== 408 && status !== 429;
	}

	/* The answer to the send of item. */
	function answered(item, status, body, after) {
		var ms, i;

		if (status === 200 && body && body.id != null) {
			tries = 0;
			i = find(item.cid);
			if (i >= 0)
				outbox.items.splice(i, 1);
			save();
			outbox.onDelivered(item, body.id);
			outbox.onChange();
			pump();
			return;
		}
		if (status === 401) {
			outbox.stop();
			outbox.onSessionEnded();
			return;
		}
		if (permanent(status)) {
			tries = 0;
			item.state = 'failed';
			item.reason = net.errorText(status, body, 'Not sent');
			changed();
			pump();
			return;
		}
		if (status === 429 && after > 0)
			ms = after * 1000 + Math.round(Math.random() * 250);
		else
			ms = net.backoff(tries, CAP);
		tries++;
		outbox.onWait(ms, status);
		timer = setTimeout(function () {
			timer = null;
			pump();
		}, ms);
	}

	/* Send the oldest queued line, unless one is under way or waiting. */
	function pump() {
		var item = next(), g = gen, params;

		if (!live || req || timer || !item)
			return;
		params = { text: item.text, room: item.room,
		    client_id: item.cid };
		if (item.to)
			params.to = item.to;
		if (!item.tried) {
			item.tried = true;
			save();
		}
		req = net.request('POST', 'send', params, 20000,
		    function (status, body, after) {
			if (g !== gen)
				return;
			req = null;
			answered(item, status, body, after);
		});
	}

	/* A line typed: into the outbox, and out when its turn comes. */
	outbox.add = function (line, text, room, to) {
		outbox.items.push({ cid: outbox.newId(), text: text, room: room,
		    to: to || null, line: line, state: 'queued', reason: null,
		    tried: false });
		changed();
		pump();
	};

	/* A session is there: send. */
	outbox.start = function () {
		live = true;
		pump();
	};

	/* No session (logout, 401): stop sending, keep the lines. */
	outbox.stop = function () {
		live = false;
		gen++;
		if (req)
			req.abort();
		req = null;
		clearTimeout(timer);
		timer = null;
		tries = 0;
	};

	/* Try now instead of waiting (the network came back, a click). */
	outbox.kick = function () {
		if (!timer)
			return;
		clearTimeout(timer);
		timer = null;
		pump();
	};

	/* Is a line waiting to go (or going)? */
	outbox.busy = function () {
		return !!next();
	};

	/*
	 * A new session after one that ended: the lines already tried may
	 * have been written in it, so they wait for the person to decide.
	 * Returns how many are held.
	 */
	outbox.holdTried = function () {
		var i, n = 0, it;

		for (i = 0; i < outbox.items.length; i++) {
			it = outbox.items[i];
			it.cid = outbox.newId();
			if (it.state === 'queued' && it.tried) {
				it.state = 'held';
				it.reason = 'May have been sent before your ' +
				    'session ended.';
				n++;
			}
		}
		changed();
		return n;
	};

	/* Send the line cid again (failed or held), at the end of the queue. */
	outbox.resend = function (cid) {
		var i = find(cid), it;

		if (i < 0)
			return;
		it = outbox.items[i];
		outbox.items.splice(i, 1);
		it.state = 'queued';
		it.reason = null;
		it.tried = false;
		it.cid = outbox.newId();
		outbox.items.push(it);
		changed();
		pump();
	};

	/* Release every held line, in order. */
	outbox.releaseHeld = function () {
		var i;

		for (i = 0; i < outbox.items.length; i++)
			if (outbox.items[i].state === 'held') {
				outbox.items[i].state = 'queued';
				outbox.items[i].reason = null;
			}
		changed();
		pump();
	};

	/* Drop the line cid; returns it (for editing) or null. */
	outbox.remove = function (cid) {
		var i = find(cid), it;

		if (i < 0)
			return null;
		it = outbox.items[i];
		outbox.items.splice(i, 1);
		changed();
		return it;
	};

	/* Drop every held line. */
	outbox.dropHeld = function () {
		var i;

		for (i = outbox.items.length - 1; i >= 0; i--)
			if (outbox.items[i].state === 'held')
				outbox.items.splice(i, 1);
		changed();
	};

	/* Forget every line (a logout the person asked for). */
	outbox.clear = function () {
		outbox.items = [];
		changed();
	};

	/* The lines kept by this tab before a reload. */
	outbox.restore = function () {
		var saved = net.parseJSON(net.load(KEY)), i, it;

		outbox.items = [];
		if (!(saved instanceof Array))
			return;
		for (i = 0; i < saved.length; i++) {
			it = saved[i];
			if (it && typeof it.cid === 'string' &&
			    typeof it.text === 'string' &&
			    typeof it.room === 'string')
				outbox.items.push({ cid: it.cid, text: it.text,
				    room: it.room, to: it.to || null,
				    line: String(it.line || it.text),
				    state: it.state === 'failed' ||
				    it.state === 'held' ? it.state : 'queued',
				    reason: it.reason || null,
				    tried: !!it.tried });
		}
	};

	chatd.outbox = outbox;
}());
