// socketio-server.js: the Socket.IO 4 peer of chatd's benchmarks.
//
// bench/run starts it with node, next to the chatd and nchan servers, and
// bench/loadgen drives it with the Engine.IO v4 polling transport, the
// only transport allowed here: a client that opens with role=p (a poller)
// joins the room "p"; every "m" event a client sends is broadcast to that
// room, so each poller gets each message once, as with chatd and nchan.
// Nothing is stored: this is the cheapest Socket.IO chat there is.
//
//   node socketio-server.js PORT [PIDFILE]
//
// Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

'use strict';

const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 3000);
const httpServer = http.createServer();
// Node closes idle keep-alive connections after 5 s by default; the load
// generator keeps its POST connections open between pings, as a browser
// would within its own limits.
httpServer.keepAliveTimeout = 120000;
httpServer.headersTimeout = 125000;
httpServer.requestTimeout = 0;
httpServer.maxConnections = 100000;

const io = new Server(httpServer, {
	transports: ['polling'],
	allowUpgrades: false,
	serveClient: false,
	httpCompression: false,
	cors: { origin: false }
});

io.on('connection', (socket) => {
	if (socket.handshake.query.role === 'p')
		socket.join('p');
	socket.on('m', (text) => io.to('p').emit('m', text));
});

httpServer.listen(port, '127.0.0.1', () => {
	if (process.argv[3])
		require('fs').writeFileSync(process.argv[3], String(process.pid));
	console.log('socketio-server listening on 127.0.0.1:' + port);
});

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
