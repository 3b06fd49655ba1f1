import uWS from 'uWebSockets.js';
import { decode, encode } from '../../src/protocol/codec.js';

/**
 * The ceiling: a bare uWebSockets.js server speaking the same envelope with
 * the same codec, but with no auth, no actors, no storage. It welcomes on
 * open and answers every request with an empty ok reply.
 */
const app = uWS.App().ws<{ id: number }>('/ws', {
  maxPayloadLength: 16 * 1024,
  idleTimeout: 60,
  open: (ws) => {
    ws.send(encode({ op: 'session.welcome', d: { sessionId: 'bare', userId: 0, role: 'viewer', resumed: false, replayed: 0, lastSeq: 0, serverTime: Date.now(), resumeGraceMs: 0 } }), true);
  },
  message: (ws, bytes) => {
    const req = decode(new Uint8Array(bytes)) as { id: number };
    ws.send(encode({ re: req.id, ok: true, d: { now: Date.now() } }), true);
  },
});
app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) process.exit(1);
  process.send?.({ ready: true, port: uWS.us_socket_local_port(socket) });
});
process.on('SIGTERM', () => process.exit(0));
