import { emit, type Step } from '../../src/actors/effects.js';
import type { ActorDef } from '../../src/actors/shell.js';

/** A bench actor holding one durable deadline: `arm` sets it, its `fire` clears it and reports (after the commit). */
export interface AlarmState {
  id: number;
  at: number | null;
}
export type AlarmMsg = { t: 'arm'; at: number } | { t: 'fire' };

export const alarmActor: ActorDef<AlarmState, AlarmMsg> = {
  kind: 'alarm',
  initialState: (id) => ({ id: Number(id), at: null }),
  reduce: (s, msg, now): Step<AlarmState> => {
    if (msg.t === 'arm') return { state: { ...s, at: msg.at }, effects: [{ type: 'reply', reply: { ok: true, value: {} } }] };
    if (s.at === null || now < s.at) return { state: s, effects: [] };
    // The report is a bench-only event: the bench's ports.emit reads it.
    return { state: { ...s, at: null }, effects: [emit({ kind: 'alarm', id: s.id, due: s.at } as never)] };
  },
  deadlines: (s) => (s.at === null ? [] : [{ id: 'alarm', at: s.at, msg: { t: 'fire' } }]),
};
