import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import * as msgpackParser from 'socket.io-msgpack-parser';

/**
 * What users would pick instead, for bench/rooms.ts: Socket.IO with the
 * msgpack parser, websocket transport only, rooms via socket.join(room) and
 * io.to(room).emit('chat.message', …) (sender included, as in ours). Query:
 * ?room=<id>&role=host|viewer&user=<id>. Event 'chat.send' {text} with an
 * acknowledgement {msgId}; no auth, no storage, no rate limits.
 */
let nextMsgId = Date.now() * 1000;

const http = createServer();
const io = new Server(http, {
  parser: msgpackParser,
  transports: ['websocket'],
  serveClient: false,
  // The default (1e6) would refuse nothing here: chat lines are small.
  maxHttpBufferSize: 16 * 1024,
});

io.on('connection', (socket) => {
  const q = socket.handshake.query;
  const roomId = Number(q.room);
  const userId = Number(q.user ?? 0);
  const room = `room/${roomId}`;
  const from = { userId, profile: { nickname: `user${userId}`, avatar: `https://cdn.example/a/${userId}.png`, gender: '', level: 1 } };
  void socket.join(room);
  socket.on('chat.send', (d: { text?: unknown }, ack?: (reply: unknown) => void) => {
    if (typeof d?.text !== 'string') return ack?.({ error: 'bad text' });
    const msgId = ++nextMsgId;
    io.to(room).emit('chat.message', { roomId, msgId, from, text: d.text, at: Date.now() });
    ack?.({ msgId });
  });
});

http.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (http.address() as AddressInfo).port });
});
process.on('SIGTERM', () => process.exit(0));
