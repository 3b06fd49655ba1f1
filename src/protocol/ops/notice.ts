import { Type } from '@sinclair/typebox';
import { definePush } from '../define.js';
import { Millis } from '../schemas.js';

export const noticePushes = {
  'user.notice': definePush({
    summary:
      'A message from the platform to you (sent through the server-to-server API): `warning` (001 §26 warnMessage, 004 mtype 6), `live_ban` ' +
      '(you may not go live until `until`; 001 §27 exitMessage, 004 mtype 7; an open room of yours is closed), `system` (any other notice). ' +
      'Only a user with a session gets it.',
    seed: '001 §26, §27; 004 mtype 6, 7',
    stream: 'session',
    data: Type.Object({
      kind: Type.Union([Type.Literal('warning'), Type.Literal('live_ban'), Type.Literal('system')]),
      text: Type.String({ maxLength: 500 }),
      until: Type.Union([Millis, Type.Null()], { description: 'live_ban: when it ends (null: until lifted); null otherwise' }),
      at: Millis,
    }),
  }),
} as const;
