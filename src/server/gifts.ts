import type { Logger } from 'pino';
import { topicOf } from '../actors/room.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { RequestOf, ReplyOf } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Ops, PushName } from '../protocol/ops/index.js';
import type { Profile } from '../protocol/schemas.js';
import type { Gift, GiftCatalog } from '../storage/gift-catalog.js';
import type { Ledger, Leg, TransferDone } from '../storage/ledger.js';
import type { Config } from './config.js';
import type { PrivateShows } from './private-shows.js';
import type { RoomService } from './rooms.js';
import type { Session, SessionRegistry } from './sessions.js';
import type { Backpack } from './backpack.js';
import { paidToHost, userAccount, type Wallet } from './wallet.js';

type SendRequest = RequestOf<Ops['gift.send']>;
type SendReply = ReplyOf<Ops['gift.send']>;

/** Where a gift goes: a public room (pushed to its topic) or a private show (pushed to both parties). */
interface Place {
  ref: string;
  recipient: number;
  room?: number;
  show?: { showId: number; hostId: number; viewerId: number };
}

/** A running streak (连击) of one sender, one gift, one place, under the sender's combo id. */
interface Streak {
  comboId: string;
  senderId: number;
  from: { userId: number; profile: Profile };
  gift: Gift;
  place: Place;
  streak: number;
  streakCount: number;
  credits: number;
  endTimer: TimerHandle | undefined;
  /** Sends not pushed yet (coalesced), and when the last push went out. */
  unpushed: { sends: number; count: number; at: number };
  pushTimer: TimerHandle | undefined;
  lastPushAt: number;
}

/**
 * Gifts (F5): the catalog, sending (a ledger transfer from the sender to the
 * host and the house, committed before the reply), combos and their pushes.
 * Streaks live in memory only: they are presentation; every send is charged,
 * acked and counted by the ledger whatever happens to its streak.
 */
export class GiftService {
  private readonly streaks = new Map<string, Streak>();
  /** Credits of all gifts per place (`room:<id>`, `show:<id>`), read from the ledger once, then kept. */
  private readonly totals = new Map<string, number>();

  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      catalog: GiftCatalog;
      ledger: Ledger;
      wallet: Wallet;
      backpack: Backpack;
      rooms: RoomService;
      shows: PrivateShows;
      sessions: SessionRegistry;
      publish(topic: string, op: PushName, d: unknown): void;
      /** Credits a viewer spent on a host (a committed gift paid with credits): intimacy grows. */
      spent?(viewerId: number, hostId: number, credits: number): void;
    },
  ) {}

  list(): ReplyOf<Ops['gift.list']> {
    return { version: this.deps.catalog.version(), gifts: this.deps.catalog.list().map(giftView) };
  }

  detail(giftId: number): ReplyOf<Ops['gift.detail']> {
    const gift = this.deps.catalog.get(giftId);
    if (!gift) throw new ProtocolError('GIFT_NOT_FOUND');
    return { gift: giftView(gift), active: gift.active };
  }

  /** Runs in the sender's lane: one send of a user at a time, so a streak's numbers follow the sends. */
  async send(me: Session, requestId: number, d: SendRequest): Promise<SendReply> {
    const { catalog, wallet, config, clock } = this.deps;
    const key = d.key ? `gift:${me.userId}:k:${d.key}` : `gift:${me.userId}:r:${me.id}:${requestId}`;
    let gift: Gift;
    let place: Place;
    try {
      gift = catalog.get(d.giftId)!;
      if (!gift || !gift.active) throw new ProtocolError('GIFT_NOT_FOUND');
      place = this.placeOf(me.userId, d);
    } catch (err) {
      // A keyed send committed before answers its first reply even if its gift, room or show is gone since
      // (a client retrying after a crash must learn whether it went through). Only then: it costs a read.
      const prior = d.key && err instanceof ProtocolError ? this.deps.ledger.find(key) : undefined;
      if (prior) return this.replayed(me, d, prior);
      throw err;
    }
    const count = d.count ?? 1;
    const comboId = d.comboId ?? null;
    const running = comboId === null ? undefined : this.streaks.get(comboId);
    if (running && (running.senderId !== me.userId || running.gift.id !== gift.id || running.place.ref !== place.ref)) {
      throw new ProtocolError('BAD_PARAMETER', running.senderId !== me.userId ? '/comboId is in use by another sender' : '/comboId is running for another gift or place');
    }
    const total = gift.price * count;
    if (!Number.isSafeInteger(total)) throw new ProtocolError('BAD_PARAMETER', '/count too large for this gift');
    const fromBackpack = d.fromBackpack === true;
    // From a backpack the items are used up and the platform pays the host (promo) what credits would have.
    const legs: Leg[] = [
      ...(fromBackpack ? this.deps.backpack.useLegs(me.userId, gift.id, count) : []),
      ...paidToHost(fromBackpack ? 'promo' : userAccount(me.userId), place.recipient, total, config.houseCutPct),
    ];
    // Read before this send commits (the running total then adds it): later sends find it cached.
    const before = this.totalOf(place.ref);
    const streak = running ? running.streak + 1 : 1;
    const streakCount = running ? running.streakCount + count : count;
    const done = await wallet.move({
            key,
            kind: 'gift',
            legs,
            ref: place.ref,
            meta: { giftId: gift.id, count, to: place.ref, comboId: comboId ?? '', from: fromBackpack ? 'backpack' : 'credits' },
            note: { streak, streakCount, credits: fromBackpack ? wallet.credits(me.userId) : null },
            at: clock.now(),
          });
    // The first reply again (a retry joined the first attempt, or its key came back): nothing charged, nothing pushed.
    if (done.replayed) return this.replayed(me, d, done);
    const credits = fromBackpack ? Number(done.note.credits) : done.balances[userAccount(me.userId)]!;
    if (fromBackpack) this.deps.backpack.updated(me.userId, gift.id, -count, 'used', done);
    if (place.room !== undefined) this.deps.rooms.earned(place.room, count, total);
    if (!fromBackpack) this.deps.spent?.(me.userId, place.recipient, total);
    this.totals.set(place.ref, (this.totals.get(place.ref) ?? before) + total);
    this.sent({ comboId, me, gift, place, count, total, streak, streakCount });
    return { transferId: done.transferId, credits, comboId, streak, streakCount };
  }

  /** The first reply of a send, from its stored transfer; another gift, count, place or combo id under the key: 753. */
  private replayed(me: Session, d: SendRequest, done: TransferDone): SendReply {
    const to = d.roomId !== undefined ? `room:${d.roomId}` : `show:${d.showId}`;
    const m = done.meta;
    const same = m.giftId === d.giftId && m.count === (d.count ?? 1) && m.to === to && m.comboId === (d.comboId ?? '') && m.from === (d.fromBackpack === true ? 'backpack' : 'credits');
    if (!same) throw new ProtocolError('KEY_REUSED');
    const credits = m.from === 'backpack' ? Number(done.note.credits) : done.balances[userAccount(me.userId)]!;
    return { transferId: done.transferId, credits, comboId: d.comboId ?? null, streak: Number(done.note.streak), streakCount: Number(done.note.streakCount) };
  }

  /** After a committed send: the streak moves on (or a single send is pushed at once). */
  private sent(s: { comboId: string | null; me: Session; gift: Gift; place: Place; count: number; total: number; streak: number; streakCount: number }): void {
    const { clock, config } = this.deps;
    const from = { userId: s.me.userId, profile: s.me.profile };
    const now = clock.now();
    if (s.comboId === null) {
      this.push(s.place, 'gift', { from, gift: giftView(s.gift), comboId: null, streak: 1, streakCount: s.count, count: s.count, sends: 1, at: now });
      return;
    }
    let streak = this.streaks.get(s.comboId);
    if (!streak) {
      streak = {
        comboId: s.comboId,
        senderId: s.me.userId,
        from,
        gift: s.gift,
        place: s.place,
        streak: 0,
        streakCount: 0,
        credits: 0,
        endTimer: undefined,
        unpushed: { sends: 0, count: 0, at: now },
        pushTimer: undefined,
        lastPushAt: -Infinity,
      };
      this.streaks.set(s.comboId, streak);
    }
    const st = streak;
    st.streak = s.streak;
    st.streakCount = s.streakCount;
    st.credits += s.total;
    st.unpushed = { sends: st.unpushed.sends + 1, count: st.unpushed.count + s.count, at: now };
    clock.clearTimeout(st.endTimer);
    st.endTimer = clock.setTimeout(() => this.endStreak(st), config.comboWindowMs);
    if (st.pushTimer) return;
    const wait = st.lastPushAt + config.comboPushMs - now;
    if (wait <= 0) this.flushStreak(st);
    else st.pushTimer = clock.setTimeout(() => this.flushStreak(st), wait);
  }

  private flushStreak(st: Streak): void {
    this.deps.clock.clearTimeout(st.pushTimer);
    st.pushTimer = undefined;
    if (st.unpushed.sends === 0) return;
    const { sends, count, at } = st.unpushed;
    st.unpushed = { sends: 0, count: 0, at };
    st.lastPushAt = this.deps.clock.now();
    this.push(st.place, 'gift', { from: st.from, gift: giftView(st.gift), comboId: st.comboId, streak: st.streak, streakCount: st.streakCount, count, sends, at });
  }

  private endStreak(st: Streak): void {
    if (this.streaks.get(st.comboId) !== st) return;
    this.flushStreak(st);
    this.streaks.delete(st.comboId);
    this.push(st.place, 'gift_combo_end', { from: st.from, giftId: st.gift.id, comboId: st.comboId, streak: st.streak, streakCount: st.streakCount, credits: st.credits });
  }

  private push(place: Place, what: 'gift' | 'gift_combo_end', d: Record<string, unknown>): void {
    const total = what === 'gift' ? this.totalOf(place.ref) : undefined;
    if (place.room !== undefined) {
      this.deps.publish(topicOf(place.room), `room.${what}`, { roomId: place.room, ...d, ...(total === undefined ? {} : { roomTotal: total }) });
      return;
    }
    const show = place.show!;
    const data = { showId: show.showId, ...d, ...(total === undefined ? {} : { showTotal: total }) };
    for (const userId of [show.hostId, show.viewerId]) this.deps.sessions.push(userId, `show.${what}`, data);
  }

  private totalOf(ref: string): number {
    let total = this.totals.get(ref);
    if (total === undefined) this.totals.set(ref, (total = this.deps.ledger.totalOf(ref, 'gift').amount));
    return total;
  }

  /** The room or show the gift goes to, checked: the sender is in it and is not its host. */
  private placeOf(userId: number, d: SendRequest): Place {
    const { rooms, shows } = this.deps;
    if ((d.roomId === undefined) === (d.showId === undefined)) throw new ProtocolError('BAD_PARAMETER', 'give exactly one of /roomId and /showId');
    if (d.roomId !== undefined) {
      const hostId = rooms.hostOfRoom(d.roomId);
      if (hostId === undefined) throw new ProtocolError('INVALID_ROOM');
      if (hostId === userId) throw new ProtocolError('PERMISSION_DENIED', 'a host cannot send gifts in their own room');
      if (!rooms.watching(userId) || rooms.currentRoom(userId) !== d.roomId) throw new ProtocolError('NOT_IN_ROOM', 'enter the room first');
      return { ref: `room:${d.roomId}`, recipient: hostId, room: d.roomId };
    }
    const show = shows.partiesOf(d.showId!, userId);
    if (!show) throw new ProtocolError('SHOW_NOT_FOUND');
    if (show.viewerId !== userId) throw new ProtocolError('PERMISSION_DENIED', "gifts in a private show go from its viewer to its host");
    return { ref: `show:${d.showId}`, recipient: show.hostId, show: { showId: d.showId!, ...show } };
  }

  /** A room closed or a show ended: its running total leaves memory (the ledger keeps the sum). */
  placeEnded(ref: string): void {
    this.totals.delete(ref);
  }

  /** Ends every streak now (shutdown): their pending pushes go out, no end pushes are promised after a restart. */
  close(): void {
    for (const st of this.streaks.values()) {
      this.deps.clock.clearTimeout(st.endTimer);
      this.flushStreak(st);
    }
    this.streaks.clear();
  }
}

export function giftView(g: Gift) {
  return { giftId: g.id, name: g.name, price: g.price, image: g.image, icon: g.icon, type: g.type };
}
