import { emit, fail, ok, push, type Effect, type Step } from './effects.js';
import { withCharges, type ChargeRequest } from './charges.js';
import { billIfDue, chargesAtEnd, nextBillAt, showCharge } from './desk-billing.js';
import type { DeskMsg, DeskRules, DeskState, Show } from './desk.js';
import { same } from './desk.js';
import type { Profile } from '../protocol/schemas.js';
import type { Deadline } from './shell.js';

export type EndReason = 'viewer_closed' | 'host_closed' | 'countdown' | 'abnormal' | 'host_no_show' | 'viewer_no_show' | 'no_credit';

/**
 * A new show, accepted now, at the configured price per minute; its first
 * minute is held from the viewer's credits at once (see desk-billing).
 */
export function newShow(
  fields: { id: number; hostId: number; viewerId: number; host: Profile; viewer: Profile; bookingId: number | null; notBefore: number | null; hostEnterBy: number | null },
  now: number,
  rules: DeskRules,
): { show: Show; charges: ChargeRequest[] } {
  const show: Show = {
    ...fields, status: 'accepted', acceptedAt: now, hostIn: false, viewerIn: false, startsAt: null, startedAt: null,
    viewerEnterBy: null, closesAt: null, nextTickAt: null, hostAwayUntil: null, viewerAwayUntil: null,
    price: rules.pricePerMin, held: rules.pricePerMin > 0 ? 'pending' : 'no', billed: 0, billing: null, spent: 0, earned: 0,
  };
  // A free show (price 0) holds and bills nothing.
  if (show.price === 0) return { show, charges: [] };
  return { show, charges: [showCharge(show, 'hold', 0)] };
}

const streamOf = (s: Show) => `show${s.id}-u${s.viewerId}`;

/** The show as `forUserId` sees it (wire shape of ShowView): the push URL goes to the viewer only, while pushing. */
export function showView(s: Show, media: Pick<DeskRules, 'mediaPushUrl' | 'mediaPlayUrl'>, forUserId: number) {
  const video = s.viewerVideo === true;
  return {
    showId: s.id,
    host: { userId: s.hostId, profile: s.host },
    viewer: { userId: s.viewerId, profile: s.viewer },
    status: s.status,
    acceptedAt: s.acceptedAt,
    bookingId: s.bookingId ?? null,
    hostIn: s.hostIn,
    viewerIn: s.viewerIn,
    hostEnterBy: s.hostEnterBy,
    startsAt: s.startsAt,
    startedAt: s.startedAt,
    viewerEnterBy: s.viewerEnterBy,
    closesAt: s.closesAt,
    pricePerMinute: s.price,
    minutesBilled: s.billed,
    viewerVideo: video,
    videoUrl: video ? media.mediaPlayUrl.replaceAll('{stream}', streamOf(s)) : null,
    pushUrl: video && forUserId === s.viewerId ? media.mediaPushUrl.replaceAll('{stream}', streamOf(s)) : null,
  };
}

/** The viewer starts or stops pushing video (5.8 / 7.48); the host is told (5.9 / 7.49). */
export function showVideo(s: DeskState, showId: number, userId: number, on: boolean, rules: DeskRules): Step<DeskState> {
  const show = ours(s, showId, userId);
  if (!show) return same(s, [fail('SHOW_NOT_FOUND')]);
  if (userId !== show.viewerId) return same(s, [fail('PERMISSION_DENIED', 'only the viewer pushes video')]);
  if ((show.viewerVideo === true) === on) return same(s, [ok(showView(show, rules, userId))]);
  const next: Show = { ...show, viewerVideo: on };
  const view = showView(next, rules, show.hostId);
  return {
    state: { ...s, show: next },
    effects: [ok(showView(next, rules, userId)), push(show.hostId, 'show.video', { showId, on, videoUrl: view.videoUrl })],
  };
}

const both = (s: Show, op: Parameters<typeof push>[1], d: unknown): Effect[] => [push(s.hostId, op, d), push(s.viewerId, op, d)];
const secondsLeft = (at: number, now: number) => Math.max(0, Math.ceil((at - now) / 1000));
const ours = (s: DeskState, showId: number, userId: number): Show | undefined =>
  s.show && s.show.id === showId && (userId === s.show.hostId || userId === s.show.viewerId) ? s.show : undefined;

/**
 * Billing (desk-billing): the hold is asked for when the show is created, the
 * first minute when it starts (`startedAt`, journaled with the `show.start`
 * row) and its hold has committed, each later minute at startedAt + k minutes
 * (a deadline), and at the end a hold that paid no minute is released.
 */
export function enterShow(s: DeskState, showId: number, userId: number, now: number, rules: DeskRules): Step<DeskState> {
  const show = ours(s, showId, userId);
  if (!show) return same(s, [fail('SHOW_NOT_FOUND')]);
  const isHost = userId === show.hostId;
  if (isHost ? show.hostIn : show.viewerIn) return same(s, [ok(showView(show, rules, userId))]);
  const other = isHost ? show.viewerId : show.hostId;
  const effects: Effect[] = [push(other, 'show.entered', { showId, userId })];
  let next: Show;
  if (isHost) {
    next = { ...show, hostIn: true, hostEnterBy: null };
    if (show.status === 'accepted') {
      // A booked show starts at its booked time at the earliest.
      next = { ...next, status: 'countdown', startsAt: Math.max(now + rules.countdownMs, show.notBefore ?? 0) };
      effects.push(...both(next, 'show.countdown', { showId, startsAt: next.startsAt, secondsLeft: secondsLeft(next.startsAt!, now) }));
    }
  } else {
    next = { ...show, viewerIn: true, viewerEnterBy: null };
  }
  // A zero countdown starts the show at once.
  const advanced = advance(next, now, rules);
  return finish(s, advanced, [ok(showView(advanced.show ?? next, rules, userId)), ...effects], now);
}

export function closeShow(s: DeskState, showId: number, by: number, countdownMs: number, now: number, rules: DeskRules): Step<DeskState> {
  const show = ours(s, showId, by);
  if (!show) return same(s, [fail('SHOW_NOT_FOUND')]);
  if (by === show.viewerId) {
    if (countdownMs > 0) return same(s, [fail('BAD_PARAMETER', 'only the host closes with a countdown')]);
    return finish(s, end(show, now, 'viewer_closed'), [ok()], now);
  }
  // A second countdown close leaves the running countdown as it is.
  if (countdownMs > 0 && show.status === 'closing') return same(s, [ok()]);
  // A countdown only for a running show; before the start there is nothing to count down.
  if (countdownMs <= 0 || show.status !== 'live') return finish(s, end(show, now, 'host_closed'), [ok()], now);
  const closesAt = now + countdownMs;
  const next: Show = { ...show, status: 'closing', closesAt, nextTickAt: nextTick(now, closesAt, rules) };
  return finish(s, { show: next, effects: both(next, 'show.closing', { showId, closesAt, secondsLeft: secondsLeft(closesAt, now) }), writes: [], charges: [] }, [ok()], now);
}

export function showAdvance(s: DeskState, now: number, rules: DeskRules): Step<DeskState> {
  if (!s.show) return same(s, []);
  const r = advance(s.show, now, rules);
  if (r.show === s.show) return same(s, r.effects);
  return finish(s, r, [], now);
}

export function showAway(s: DeskState, userId: number, since: number, rules: DeskRules): Step<DeskState> {
  const show = s.show;
  if (!show) return same(s, []);
  const key = userId === show.hostId ? 'hostAwayUntil' : userId === show.viewerId ? 'viewerAwayUntil' : null;
  if (!key || show[key] !== null) return same(s, []);
  return { state: { ...s, show: { ...show, [key]: since + rules.awayGraceMs } }, effects: [] };
}

export function showBack(s: DeskState, userId: number): Step<DeskState> {
  const show = s.show;
  if (!show) return same(s, []);
  const key = userId === show.hostId ? 'hostAwayUntil' : userId === show.viewerId ? 'viewerAwayUntil' : null;
  if (!key || show[key] === null) return same(s, []);
  return { state: { ...s, show: { ...show, [key]: null } }, effects: [] };
}

/** After a restart nobody is connected: both sides get the away grace (a side that comes back clears it). */
export function showRestarted(s: DeskState, now: number, rules: DeskRules): Step<DeskState> {
  const show = s.show;
  if (!show) return same(s, []);
  const until = now + rules.awayGraceMs;
  const next = { ...show, hostAwayUntil: show.hostAwayUntil ?? until, viewerAwayUntil: show.viewerAwayUntil ?? until };
  return { state: { ...s, show: next }, effects: [emit({ kind: 'show.opened', showId: show.id, hostId: show.hostId, viewerId: show.viewerId })] };
}

export function showDeadlines(show: Show | null): Deadline<DeskMsg>[] {
  if (!show) return [];
  const due: Deadline<DeskMsg>[] = [];
  const add = (id: string, at: number | null) => {
    if (at !== null) due.push({ id, at, msg: { t: 'show-due' } });
  };
  add('host-enter', show.hostEnterBy);
  add('start', show.startsAt !== null && show.status === 'countdown' ? show.startsAt : null);
  add('viewer-enter', show.viewerEnterBy);
  add('tick', show.nextTickAt);
  add('close', show.closesAt);
  add('host-away', show.hostAwayUntil);
  add('viewer-away', show.viewerAwayUntil);
  add('bill', nextBillAt(show));
  return due;
}

interface Advanced {
  /** null: the show ended. */
  show: Show | null;
  effects: Effect[];
  writes: NonNullable<Step<DeskState>['writes']>;
  charges: ChargeRequest[];
}

/** Moves the show along every deadline that is due at `now`, in time order of what matters. */
function advance(show: Show, now: number, rules: DeskRules): Advanced {
  const effects: Effect[] = [];
  const writes: Advanced['writes'] = [];
  let s = show;
  if (s.status === 'countdown' && s.startsAt !== null && now >= s.startsAt) {
    // Billing counts from the start as scheduled, not from when the timer ran.
    const startedAt = s.startsAt;
    // A booked show's viewer has until the booking's judgement, which settles who missed it.
    const viewerEnterBy = s.viewerIn || s.bookingId !== null ? null : startedAt + rules.viewerEnterMs;
    s = { ...s, status: 'live', startedAt, viewerEnterBy };
    effects.push(...both(s, 'show.started', { showId: s.id, startedAt, viewerEnterBy: s.viewerEnterBy }));
    writes.push({ t: 'show.start', showId: s.id, at: startedAt });
  }
  // The earliest end that is due, at its own time: after a restart several may be overdue, and the show
  // ended when the first of them passed (not when the server came back), with the minutes started before.
  const due = dueEnd(s, now);
  if (due) {
    const e = end(s, due.at, due.reason);
    return { show: null, effects: [...effects, ...e.effects], writes: [...writes, ...e.writes], charges: e.charges };
  }
  if (s.nextTickAt !== null && now >= s.nextTickAt && s.closesAt !== null) {
    s = { ...s, nextTickAt: nextTick(now, s.closesAt, rules) };
    effects.push(...both(s, 'show.closing', { showId: s.id, closesAt: s.closesAt, secondsLeft: secondsLeft(s.closesAt!, now) }));
  }
  // A minute that starts while the show is still on is billed (ends were checked first).
  const billed = billIfDue(s, now);
  return { show: billed.show, effects, writes, charges: billed.charges };
}

/** Ends the desk's show now (a booking judged missed). */
export function endShowNow(s: DeskState, now: number, reason: EndReason, first: Effect[] = []): Step<DeskState> {
  return s.show ? finish(s, end(s.show, now, reason), first, now) : same(s, first);
}

/** Moves the show along after its billing changed (a hold or a minute committed). */
export function showBilled(s: DeskState, now: number, rules: DeskRules, first: Effect[]): Step<DeskState> {
  if (!s.show) return same(s, first);
  return finish(s, advance(s.show, now, rules), first, now);
}

/** The end deadline of the show that passed first by `now`, if any. */
function dueEnd(s: Show, now: number): { at: number; reason: EndReason } | null {
  const ends: Array<[number | null, EndReason]> = [
    [s.hostEnterBy, 'host_no_show'],
    [s.viewerEnterBy, 'viewer_no_show'],
    [s.hostAwayUntil, 'abnormal'],
    [s.viewerAwayUntil, 'abnormal'],
    [s.closesAt, 'countdown'],
  ];
  let first: { at: number; reason: EndReason } | null = null;
  for (const [at, reason] of ends) if (at !== null && at <= now && (first === null || at < first.at)) first = { at, reason };
  return first;
}

function end(show: Show, now: number, reason: EndReason): Advanced {
  const durationSec = show.startedAt === null ? 0 : Math.max(0, Math.floor((now - show.startedAt) / 1000));
  // The settlement (001 §15/§16): minutes billed and their credits, as committed by the time the show ended.
  const d = { showId: show.id, reason, startedAt: show.startedAt, endedAt: now, durationSec, pricePerMinute: show.price, minutesBilled: show.billed, spent: show.spent, earned: show.earned };
  return {
    show: null,
    effects: [...both(show, 'show.ended', d), emit({ kind: 'show.ended', showId: show.id, hostId: show.hostId, viewerId: show.viewerId })],
    writes: [{ t: 'show.end', showId: show.id, at: now, reason, durationSec }],
    charges: chargesAtEnd(show, now, reason === 'no_credit'),
  };
}

function finish(s: DeskState, r: Advanced, first: Effect[], now: number): Step<DeskState> {
  return withCharges({ state: { ...s, show: r.show }, effects: [...first, ...r.effects], writes: r.writes }, r.charges, now);
}

function nextTick(now: number, closesAt: number, rules: DeskRules): number | null {
  const next = now + rules.tickMs;
  return next < closesAt ? next : null;
}
