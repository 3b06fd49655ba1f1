import { Type } from '@sinclair/typebox';
import { defineOp, definePush } from '../define.js';
import { Millis, Profile, SafeInt, UserId } from '../schemas.js';

export const ShowId = SafeInt({ minimum: 1, description: 'private show id' });
const Party = Type.Object({ userId: UserId, profile: Profile });
const MaybeMillis = (description: string) => Type.Union([Millis, Type.Null()], { description });

export const ShowStatus = Type.Union([Type.Literal('accepted'), Type.Literal('countdown'), Type.Literal('live'), Type.Literal('closing')], {
  description:
    'accepted: waiting for the host to enter; countdown: the host entered, the show starts at startsAt; live: started; closing: the host\'s closing countdown runs',
});

/** A private show (a one-to-one private room) as its two parties see it. */
export const ShowView = Type.Object({
  showId: ShowId,
  host: Party,
  viewer: Party,
  status: ShowStatus,
  acceptedAt: Millis,
  bookingId: Type.Union([SafeInt({ minimum: 1 }), Type.Null()], { description: 'the booking this show belongs to; null for an instant show' }),
  hostIn: Type.Boolean({ description: 'the host has entered' }),
  viewerIn: Type.Boolean({ description: 'the viewer has entered' }),
  hostEnterBy: MaybeMillis('while accepted: the show ends ("host_no_show") if the host has not entered by then'),
  startsAt: MaybeMillis('while counting down: when the show starts'),
  startedAt: MaybeMillis('when the show started (per-minute billing counts from here)'),
  viewerEnterBy: MaybeMillis('after the start, until the viewer entered: the show ends ("viewer_no_show") if the viewer has not entered by then'),
  closesAt: MaybeMillis('while closing: when the show ends'),
  pricePerMinute: SafeInt({ minimum: 0, description: 'credits per started minute, fixed when the show was created (LIVE_SHOW_PRICE_PER_MIN; 0: free)' }),
  minutesBilled: SafeInt({ minimum: 0, description: 'minutes paid so far' }),
  viewerVideo: Type.Boolean({ description: 'the viewer is pushing video to the host (show.video)' }),
  videoUrl: Type.Union([Type.String(), Type.Null()], { description: 'while the viewer pushes: where the host plays it (seed man_video_url; LIVE_MEDIA_PLAY_URL)' }),
  pushUrl: Type.Union([Type.String(), Type.Null()], {
    description: 'to the viewer only, while pushing: where to push the video (seed man_push_url; LIVE_MEDIA_PUSH_URL); null otherwise',
  }),
});

export const EndReason = Type.Union(
  [
    Type.Literal('viewer_closed'),
    Type.Literal('host_closed'),
    Type.Literal('countdown'),
    Type.Literal('abnormal'),
    Type.Literal('host_no_show'),
    Type.Literal('viewer_no_show'),
    Type.Literal('no_credit'),
  ],
  { description: 'who or what ended the show; no_credit: the viewer could not pay the hold or a minute' },
);

const ByShow = Type.Object({ showId: ShowId }, { additionalProperties: false });
const Ref = { showId: ShowId };

export const showOps = {
  'show.enter': defineOp({
    summary:
      'Enter your private show: the host (6.23) starts the start countdown (LIVE_SHOW_COUNTDOWN_MS, default 10 s; show.countdown to both); ' +
      'the viewer (5.14) may enter before or after the start. Entering again is harmless. Entering leaves the public room you were watching.',
    seed: '6.23, 5.14',
    roles: ['viewer', 'host'],
    request: ByShow,
    reply: ShowView,
    errors: ['SHOW_NOT_FOUND', 'SHOW_ENDED'],
    pushes: ['show.entered', 'show.countdown', 'show.started'],
  }),
  'show.close': defineOp({
    summary:
      'End your private show. The viewer ends it at once (5.15); the host at once (6.26) or, once the show has started, after `countdownSec` ' +
      'seconds (6.28, show.closing to both now and every LIVE_ROOM_COUNTDOWN_TICK_MS; before the start it ends at once; while a countdown ' +
      'runs, another countdown close changes nothing and a close without one ends it at once). Both sides get show.ended.',
    seed: '5.15, 6.26, 6.28',
    roles: ['viewer', 'host'],
    request: Type.Object(
      { showId: ShowId, countdownSec: Type.Optional(SafeInt({ minimum: 0, maximum: 600, description: 'host only; 0 or absent: at once' })) },
      { additionalProperties: false },
    ),
    reply: Type.Object({}),
    errors: ['SHOW_NOT_FOUND', 'SHOW_ENDED', 'BAD_PARAMETER'],
    pushes: ['show.closing', 'show.ended'],
  }),
  'show.video': defineOp({
    summary: 'Viewer: start or stop pushing your video to the host (5.8, 7.48). The reply carries `pushUrl` while on; the host gets show.video.',
    seed: '5.8, 7.48',
    roles: ['viewer'],
    request: Type.Object({ showId: ShowId, on: Type.Boolean() }, { additionalProperties: false }),
    reply: ShowView,
    errors: ['SHOW_NOT_FOUND', 'SHOW_ENDED'],
    pushes: ['show.video'],
  }),
  'show.current': defineOp({
    summary: 'The private show you are part of right now (for example after a reconnect), or null.',
    seed: '5.14, 6.23',
    roles: ['viewer', 'host'],
    request: Type.Object({}, { additionalProperties: false }),
    reply: Type.Object({ show: Type.Union([ShowView, Type.Null()]) }),
    errors: [],
  }),
};

export const showPushes = {
  'show.entered': definePush({
    summary: 'The other side entered the private show (7.1).',
    seed: '7.1',
    stream: 'session',
    data: Type.Object({ ...Ref, userId: UserId }),
  }),
  'show.countdown': definePush({
    summary: 'The host entered: the show starts at `startsAt` (6.24); to both sides.',
    seed: '6.24',
    stream: 'session',
    data: Type.Object({ ...Ref, startsAt: Millis, secondsLeft: SafeInt({ minimum: 0 }) }),
  }),
  'show.started': definePush({
    summary: 'The show started (6.25); to both sides. If the viewer has not entered yet, they must by `viewerEnterBy`.',
    seed: '6.25',
    stream: 'session',
    data: Type.Object({ ...Ref, startedAt: Millis, viewerEnterBy: MaybeMillis('set when the viewer has not entered yet') }),
  }),
  'show.video': definePush({
    summary: 'The viewer started or stopped pushing video (5.9, 7.49); to the host, with where to play it while on.',
    seed: '5.9, 7.49',
    stream: 'session',
    data: Type.Object({ ...Ref, on: Type.Boolean(), videoUrl: Type.Union([Type.String(), Type.Null()]) }),
  }),
  'show.closing': definePush({
    summary: 'The host is closing the show: seconds left (6.7); to both sides.',
    seed: '6.28, 6.7',
    stream: 'session',
    data: Type.Object({ ...Ref, closesAt: Millis, secondsLeft: SafeInt({ minimum: 0 }) }),
  }),
  'show.ended': definePush({
    summary:
      'The show ended (7.3); to both sides. "abnormal": a side stayed disconnected longer than LIVE_SHOW_AWAY_GRACE_MS (6.27); ' +
      '"host_no_show" / "viewer_no_show": a side did not enter in time (LIVE_SHOW_HOST_ENTER_MS after acceptance, LIVE_SHOW_VIEWER_ENTER_MS after the start).',
    seed: '7.3, 6.27',
    stream: 'session',
    data: Type.Object({
      ...Ref,
      reason: EndReason,
      startedAt: MaybeMillis('null when the show never started'),
      endedAt: Millis,
      durationSec: SafeInt({ minimum: 0, description: 'seconds from startedAt to endedAt (0 when it never started)' }),
      pricePerMinute: SafeInt({ minimum: 0, description: 'credits per started minute (seed unitPrice)' }),
      minutesBilled: SafeInt({
        minimum: 0,
        description: 'minutes paid (seed callTime): those whose payment had committed when the show ended; a minute still being charged at that instant is charged but not counted here',
      }),
      spent: SafeInt({ minimum: 0, description: 'credits the viewer paid for the minutes (seed callDiamond)' }),
      earned: SafeInt({ minimum: 0, description: 'credits the host earned from them, the house cut taken (seed callPoint)' }),
    }),
  }),
  'show.kicked': definePush({
    summary: 'To the viewer: you could not pay (the first minute\'s hold or a minute: 740); the show ends for both (show.ended, reason "no_credit").',
    seed: '7.5',
    stream: 'session',
    data: Type.Object({ ...Ref, reason: Type.Literal('no_credit') }),
  }),
};
