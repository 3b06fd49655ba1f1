import uWS from 'uWebSockets.js';
import { decode, encode } from '../../src/protocol/codec.js';

/**
 * The ceiling for bench/rooms.ts: a bare uWebSockets.js server with rooms as
 * uWS topics, speaking our envelope with our codec, but with no auth, no
 * actors, no storage and no rate limits.
 *
 * `/ws?room=<id>&role=host|viewer&user=<id>` subscribes the socket to
 * `room/<id>`. A binary frame {op:'chat.send', id, d:{text}} is published to
 * the topic as {op:'chat.message', d:{roomId,msgId,from,text,at}, ch} (the
 * same shape and size as ours, sender included, as app.publish does in ours)
 * and answered with {re:id, ok:true, d:{msgId}}.
 */
interface Data {
  roomId: number;
  userId: number;
  topic: string;
  from: { userId: number; profile: { nickname: string; avatar: string; gender: string; level: number } };
}

let nextMsgId = Date.now() * 1000;

const app = uWS.App();
app.ws<Data>('/ws', {
  maxPayloadLength: 16 * 1024,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  // As ours: 1 MiB of unsent bytes per socket, beyond which uWS drops frames (ours closes such a socket itself).
  maxBackpressure: 1024 * 1024,
  closeOnBackpressureLimit: 0,
  upgrade: (res, req, context) => {
    const q = new URLSearchParams(req.getQuery() ?? '');
    const roomId = Number(q.get('room'));
    const userId = Number(q.get('user') ?? 0);
    const data: Data = {
      roomId,
      userId,
      topic: `room/${roomId}`,
      from: { userId, profile: { nickname: `user${userId}`, avatar: `https://cdn.example/a/${userId}.png`, gender: '', level: 1 } },
    };
    res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  },
  open: (ws) => {
    ws.subscribe(ws.getUserData().topic);
  },
  message: (ws, bytes, isBinary) => {
    if (!isBinary) return;
    const req = decode(new Uint8Array(bytes)) as { op?: string; id?: number; d?: { text?: string } };
    if (req.op !== 'chat.send' || typeof req.d?.text !== 'string') {
      ws.send(encode({ re: req.id ?? 0, ok: false, err: { code: 1, msg: 'unknown op' } }), true);
      return;
    }
    const { roomId, topic, from } = ws.getUserData();
    const msgId = ++nextMsgId;
    app.publish(topic, encode({ op: 'chat.message', d: { roomId, msgId, from, text: req.d.text, at: Date.now() }, ch: topic }), true);
    ws.cork(() => ws.send(encode({ re: req.id, ok: true, d: { msgId } }), true));
  },
});
app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) process.exit(1);
  process.send?.({ ready: true, port: uWS.us_socket_local_port(socket) });
});
process.on('SIGTERM', () => process.exit(0));
