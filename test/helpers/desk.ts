import { initialDeskState, reduceDesk, type DeskMsg, type DeskRules, type DeskState } from '../../src/actors/desk.js';
import type { Effect } from '../../src/actors/effects.js';

/** Desk rules for reducer tests (short, round numbers), with overrides. */
export function deskRules(overrides: Partial<DeskRules> = {}): DeskRules {
  return {
    inviteTtlMs: 30_000, maxInvitesPerHost: 2, countdownMs: 10_000, hostEnterMs: 60_000, viewerEnterMs: 60_000, awayGraceMs: 45_000, tickMs: 1000,
    bookingMinLeadMs: 120_000, bookingMaxAheadMs: 86_400_000, bookingRemindMs: 60_000, bookingJudgeMs: 300_000, maxBookingsPerHost: 10,
    mediaPushUrl: 'rtmp://m/{stream}', mediaPlayUrl: 'https://m/{stream}.flv', pricePerMin: 0,
    ...overrides,
  };
}

export const testProfile = { nickname: 'n', avatar: '', gender: '' as const, level: 0 };

/** Runs messages (each at its time) through the desk reducer: the final state, every effect and durable write. */
export function runDesk(rules: DeskRules, msgs: Array<[DeskMsg, number]>, from: DeskState = initialDeskState('100')) {
  const effects: Effect[] = [];
  const writes: unknown[] = [];
  let state = from;
  for (const [msg, now] of msgs) {
    const step = reduceDesk(state, msg, now, rules);
    state = step.state;
    effects.push(...step.effects);
    writes.push(...(step.writes ?? []));
  }
  return { state, effects, writes };
}
