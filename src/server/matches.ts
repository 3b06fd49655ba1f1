import type { Directory } from '../actors/directory.js';
import type { MatchMsg, MatchState } from '../actors/match.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Session } from './sessions.js';

/** The one match actor's id (`match:1`). */
const MATCHER = 1;

/** The server's side of random match (F13): checks who may wait, and routes to the match actor. */
export class MatchService {
  constructor(
    private readonly deps: {
      matches: Directory<MatchState, MatchMsg>;
      /** Whether the user is in a private show or a co-host call. */
      busy(userId: number): boolean;
    },
  ) {}

  start(me: Session): Promise<{ waiting: true }> {
    if (this.deps.busy(me.userId)) throw new ProtocolError('USER_BUSY', 'you are in a private show or a co-host call');
    return this.deps.matches.ask(MATCHER, { t: 'start', userId: me.userId, role: me.role, profile: me.profile });
  }

  stop(me: Session): Promise<Record<string, never>> {
    return this.deps.matches.ask(MATCHER, { t: 'stop', userId: me.userId, reason: 'stopped' });
  }

  answer(me: Session, matchId: number, accept: boolean): Promise<{ connected: boolean } | Record<string, never>> {
    return this.deps.matches.ask(MATCHER, { t: 'answer', userId: me.userId, matchId, accept });
  }

  /** The user went into a private show or a co-host call: they stop waiting (and a match of theirs ends). */
  wentBusy(userId: number): void {
    this.deps.matches.tell(MATCHER, { t: 'stop', userId, reason: 'busy' });
  }

  /** The user's session ended for good. */
  sessionEnded(userId: number): void {
    this.deps.matches.tell(MATCHER, { t: 'stop', userId, reason: 'left' });
  }

  /** At start: arms the accept windows that were open. */
  armFromIndex(): number {
    return this.deps.matches.armFromIndex();
  }

  close(): Promise<void> {
    return this.deps.matches.close();
  }
}
