import type { Logger } from 'pino';
import type { Directory } from '../actors/directory.js';
import { holdAccount, requestView, type TalentCharge, type TalentMsg, type TalentState } from '../actors/talent.js';
import type { Clock } from '../clock.js';
import type { RequestOf, ReplyOf } from '../protocol/define.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Ops } from '../protocol/ops/index.js';
import type { Ledger, Leg, TransferDone } from '../storage/ledger.js';
import type { TalentRequestStore } from '../storage/talents.js';
import type { Config } from './config.js';
import type { RoomService } from './rooms.js';
import type { Session } from './sessions.js';
import { paidToHost, userAccount, type Wallet } from './wallet.js';

type RequestReply = ReplyOf<Ops['talent.request']>;
type RequestView = RequestReply['request'];

/**
 * Talent requests (F9, 7.23–7.26, 7.45). The host's `talent:<hostId>` actor
 * decides (the list, which requests are open, accepted, declined, expired);
 * this service checks who may ask, runs the actor's credits moves through the
 * ledger and reports each outcome back to it. A request's hold is taken in
 * the viewer's lane and committed before the reply; the hold is also in the
 * actor's journaled outbox, so a crash between the request and the hold's
 * commit neither loses nor repeats it (asked again under the same key).
 */
export class TalentService {
  constructor(
    private readonly deps: {
      config: Config;
      clock: Clock;
      logger: Logger;
      talents: Directory<TalentState, TalentMsg>;
      store: TalentRequestStore;
      ledger: Ledger;
      wallet: Wallet;
      rooms: RoomService;
      /** Credits a viewer spent on a host (a paid request, once committed): intimacy grows. */
      spent(viewerId: number, hostId: number, credits: number): void;
    },
  ) {}

  list(hostId: number): Promise<ReplyOf<Ops['talent.list']>> {
    return this.deps.talents.ask(hostId, { t: 'list' });
  }

  set(me: Session, d: RequestOf<Ops['talent.set']>): Promise<ReplyOf<Ops['talent.set']>> {
    return this.deps.talents.ask(me.userId, { t: 'set', talentId: d.talentId, name: d.name, price: d.price });
  }

  remove(me: Session, talentId: number): Promise<ReplyOf<Ops['talent.remove']>> {
    return this.deps.talents.ask(me.userId, { t: 'remove', talentId });
  }

  /** Runs in the viewer's lane. */
  async request(me: Session, requestId: number, d: RequestOf<Ops['talent.request']>): Promise<RequestReply> {
    const { ledger, rooms, talents, store, wallet } = this.deps;
    const key = d.key ? `talent:${me.userId}:k:${d.key}` : `talent:${me.userId}:r:${me.id}:${requestId}`;
    // A key whose hold committed before: that request again, nothing charged.
    const prior = ledger.find(key);
    if (prior) return this.replayed(me, d, prior);
    if (!rooms.watching(me.userId)) throw new ProtocolError('NOT_IN_ROOM', "enter the host's room first");
    const roomId = rooms.currentRoom(me.userId);
    const hostId = rooms.hostOfRoom(roomId);
    if (hostId === undefined) throw new ProtocolError('INVALID_ROOM');
    const opened = await talents.ask<{ request: RequestView; hold: TalentCharge | null }>(hostId, {
      t: 'request', requestId: store.allocate(), key, viewerId: me.userId, viewer: me.profile, talentId: d.talentId, roomId,
    });
    if (!opened.hold) return { request: opened.request, credits: wallet.credits(me.userId) };
    let held: boolean;
    try {
      held = !(await this.move(opened.hold)).refused;
    } catch (err) {
      // Not stored (storage): the actor asks for it again after a while; the viewer may retry with the key.
      this.deps.logger.error({ err, key }, 'talent hold failed');
      throw new ProtocolError('INTERNAL', 'the hold could not be stored; retry with the same key');
    }
    const after = await talents.ask<{ request: RequestView }>(hostId, { t: 'charged', charge: opened.hold, ok: held }, { shed: false });
    return { request: after.request, credits: wallet.credits(me.userId) };
  }

  /** The request a committed hold was for, as it is now; another talent under the key: 753. */
  private replayed(me: Session, d: RequestOf<Ops['talent.request']>, done: TransferDone): RequestReply {
    if (done.meta.talentId !== d.talentId) throw new ProtocolError('KEY_REUSED');
    const row = this.deps.store.byId(Number(done.meta.requestId));
    if (!row) throw new ProtocolError('INTERNAL', 'a held request without its row');
    return { request: requestView(row, row.hostId) as RequestView, credits: this.deps.wallet.credits(me.userId) };
  }

  answer(me: Session, requestId: number, accept: boolean): Promise<ReplyOf<Ops['talent.accept']>> {
    // Only the host's own actor is asked: another host's request id is not found there.
    return this.deps.talents.ask(me.userId, { t: 'answer', requestId, accept });
  }

  unread(me: Session): Promise<ReplyOf<Ops['talent.unread']>> {
    return this.deps.talents.ask(me.userId, { t: 'unread', roomId: this.deps.rooms.hostedBy(me.userId) ?? null });
  }

  read(me: Session, requestIds: number[] | undefined): Promise<ReplyOf<Ops['talent.read']>> {
    return this.deps.talents.ask(me.userId, { t: 'read', roomId: this.deps.rooms.hostedBy(me.userId) ?? null, requestIds });
  }

  /** A charge the actor asks for (its outbox: a pay, a release, or a hold asked again): run, then reported back. */
  charge(c: TalentCharge): void {
    this.move(c).then(
      ({ refused }) => this.deps.talents.tell(c.hostId, { t: 'charged', charge: c, ok: !refused }),
      (err: unknown) => this.deps.logger.error({ err, key: c.key }, 'talent charge failed; it will be asked for again'),
    );
  }

  /** The ledger transfer of a charge; `refused`: not enough credit (or, for a pay or release, nothing left in the hold). */
  private async move(c: TalentCharge): Promise<{ refused: boolean }> {
    const viewer = userAccount(c.viewerId);
    const hold = holdAccount(c.requestId);
    let legs: Leg[];
    if (c.what === 'hold') legs = [{ account: viewer, delta: -c.price }, { account: hold, delta: c.price }];
    else if (c.what === 'release') legs = [{ account: hold, delta: -c.price }, { account: viewer, delta: c.price }];
    else legs = paidToHost(hold, c.hostId, c.price, this.deps.config.houseCutPct);
    let done: TransferDone;
    try {
      done = await this.deps.wallet.move({
        key: c.key,
        kind: c.what === 'pay' ? 'talent' : c.what,
        legs,
        ref: `talent:${c.requestId}`,
        meta: { requestId: c.requestId, hostId: c.hostId, talentId: c.talentId },
        at: this.deps.clock.now(),
      });
    } catch (err) {
      if (err instanceof ProtocolError && err.errorName === 'INSUFFICIENT_CREDIT') {
        this.deps.logger.info({ key: c.key, userId: c.viewerId }, `talent ${c.what} refused: not enough credit`);
        return { refused: true };
      }
      throw err;
    }
    if (c.what === 'pay' && !done.replayed) this.deps.spent(c.viewerId, c.hostId, c.price);
    return { refused: false };
  }
}
