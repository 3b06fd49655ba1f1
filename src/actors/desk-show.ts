import { emit, fail, ok, push, type Effect, type Step } from './effects.js';
import type { DeskMsg, DeskRules, DeskState, Show } from './desk.js';
import { same } from './desk.js';
import type { Deadline } from './shell.js';

type EndReason = 'viewer_closed' | 'host_closed' | 'countdown' | 'abnormal' | 'host_no_show' | 'viewer_no_show';

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
 * The billing hooks of the next issue sit where the show starts (`startedAt`,
 * journaled with the `show.start` row), at its minute boundaries (deadlines at
 * startedAt + k minutes, to be added to showDeadlines) and where it ends (end()).
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
  return finish(s, advanced, [ok(showView(advanced.show ?? next, rules, userId)), ...effects]);
}

export function closeShow(s: DeskState, showId: number, by: number, countdownMs: number, now: number, rules: DeskRules): Step<DeskState> {
  const show = ours(s, showId, by);
  if (!show) return same(s, [fail('SHOW_NOT_FOUND')]);
  if (by === show.viewerId) {
    if (countdownMs > 0) return same(s, [fail('BAD_PARAMETER', 'only the host closes with a countdown')]);
    return finish(s, end(show, now, 'viewer_closed'), [ok()]);
  }
  // A second countdown close leaves the running countdown as it is.
  if (countdownMs > 0 && show.status === 'closing') return same(s, [ok()]);
  // A countdown only for a running show; before the start there is nothing to count down.
  if (countdownMs <= 0 || show.status !== 'live') return finish(s, end(show, now, 'host_closed'), [ok()]);
  const closesAt = now + countdownMs;
  const next: Show = { ...show, status: 'closing', closesAt, nextTickAt: nextTick(now, closesAt, rules) };
  return finish(s, { show: next, effects: both(next, 'show.closing', { showId, closesAt, secondsLeft: secondsLeft(closesAt, now) }), writes: [] }, [ok()]);
}

export function showAdvance(s: DeskState, now: number, rules: DeskRules): Step<DeskState> {
  if (!s.show) return same(s, []);
  const r = advance(s.show, now, rules);
  if (r.show === s.show) return same(s, r.effects);
  return finish(s, r, []);
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
  return due;
}

interface Advanced {
  /** null: the show ended. */
  show: Show | null;
  effects: Effect[];
  writes: NonNullable<Step<DeskState>['writes']>;
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
  const ended = (reason: EndReason): Advanced => {
    const e = end(s, now, reason);
    return { show: null, effects: [...effects, ...e.effects], writes: [...writes, ...e.writes] };
  };
  if (s.hostEnterBy !== null && now >= s.hostEnterBy) return ended('host_no_show');
  if (s.viewerEnterBy !== null && now >= s.viewerEnterBy) return ended('viewer_no_show');
  if ((s.hostAwayUntil !== null && now >= s.hostAwayUntil) || (s.viewerAwayUntil !== null && now >= s.viewerAwayUntil)) return ended('abnormal');
  if (s.closesAt !== null && now >= s.closesAt) return ended('countdown');
  if (s.nextTickAt !== null && now >= s.nextTickAt && s.closesAt !== null) {
    s = { ...s, nextTickAt: nextTick(now, s.closesAt, rules) };
    effects.push(...both(s, 'show.closing', { showId: s.id, closesAt: s.closesAt, secondsLeft: secondsLeft(s.closesAt!, now) }));
  }
  return { show: s, effects, writes };
}

/** Ends the desk's show now (a booking judged missed). */
export function endShowNow(s: DeskState, now: number, reason: EndReason): Step<DeskState> {
  return s.show ? finish(s, end(s.show, now, reason), []) : same(s, []);
}

function end(show: Show, now: number, reason: EndReason): Advanced {
  const durationSec = show.startedAt === null ? 0 : Math.max(0, Math.floor((now - show.startedAt) / 1000));
  const d = { showId: show.id, reason, startedAt: show.startedAt, endedAt: now, durationSec };
  return {
    show: null,
    effects: [...both(show, 'show.ended', d), emit({ kind: 'show.ended', showId: show.id, hostId: show.hostId, viewerId: show.viewerId })],
    writes: [{ t: 'show.end', showId: show.id, at: now, reason, durationSec }],
  };
}

function finish(s: DeskState, r: Advanced, first: Effect[]): Step<DeskState> {
  return { state: { ...s, show: r.show }, effects: [...first, ...r.effects], writes: r.writes };
}

function nextTick(now: number, closesAt: number, rules: DeskRules): number | null {
  const next = now + rules.tickMs;
  return next < closesAt ? next : null;
}
