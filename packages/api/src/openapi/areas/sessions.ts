import {
  ApiErrorResponse,
  CreatedSession,
  CreateSessionInput,
  DeletedSession,
  RotatedKey,
  SessionId,
  SessionInfo,
  SessionList,
  SessionLoginInput,
  SessionLoginResult,
  SessionSettings,
} from '@pollmasters/shared';
import { z } from 'zod';
import type { ApiArea, ParameterDoc, ResponseDoc, RouteDoc } from '../area.js';
import { apiBodyFailures, apiFailure, apiFailures, apiForbidden } from '../failures.js';

const sessionId: ParameterDoc = {
  name: 'id',
  in: 'path',
  description: "The session's id.",
  schema: SessionId,
};

/** What every route on one session may answer besides its own. */
const onOneSession = {
  '400': apiFailure('Not a session id (1 to 64 of a-z, 0-9, _ and -).'),
  '403': apiForbidden,
  '404': apiFailure('No such session.'),
  ...apiFailures,
} satisfies Record<string, ResponseDoc>;

/** `/api` reads a JSON body on every POST and DELETE, even one that takes none. */
const notJson = 'a body that is not valid JSON';

/** And those of a POST or DELETE on one session. */
const onOneSessionPosted = {
  ...onOneSession,
  '400': apiFailure(`Not a session id, or ${notJson}.`),
  '413': apiBodyFailures['413'],
} satisfies Record<string, ResponseDoc>;

const described: ResponseDoc = { description: 'The session as it is now.', schema: SessionInfo };

/** `POST /api/sessions/{id}/<action>`: an act on one session that answers it. */
const act = (
  action: string,
  operationId: string,
  summary: string,
  description: string,
): RouteDoc => ({
  method: 'post',
  path: `/api/sessions/{id}/${action}`,
  operationId,
  summary,
  description,
  parameters: [sessionId],
  responses: { '200': described, ...onOneSessionPosted },
});

/** The sessions (WhatsApp accounts) over JSON HTTP (../../rest/sessionRoutes.ts), as tRPC's `sessions.*`. */
export const sessionsArea: ApiArea = {
  tag: 'sessions',
  description:
    'Several WhatsApp accounts on one server, each a session with its own login and data. The session `default` always exists.',
  schemas: {
    SessionInfo,
    SessionSettings,
    SessionList,
    CreateSessionInput,
    CreatedSession,
    SessionLoginResult,
    RotatedKey,
    DeletedSession,
    ApiErrorResponse,
  },
  routes: [
    {
      method: 'get',
      path: '/api/sessions',
      operationId: 'listSessions',
      summary: 'The sessions',
      description: "Every session; with a session's own key, just that one.",
      responses: { '200': { description: 'The sessions.', schema: SessionList }, ...apiFailures },
    },
    {
      method: 'post',
      path: '/api/sessions',
      operationId: 'createSession',
      summary: 'Create a session',
      description:
        "With `start`, it starts at once (and with every server start). With `scopedKey` (a server with a key only), the answer's `apiKey` is a key for this session alone, shown this once.",
      body: { schema: CreateSessionInput },
      responses: {
        '201': { description: 'Created.', schema: CreatedSession },
        '400': apiFailure(
          `A bad id or setting, ${notJson}, or \`scopedKey\` on a server without a key; nothing was created.`,
        ),
        '403': apiForbidden,
        '409': apiFailure('A session with this id exists already.'),
        '429': apiFailure(
          'The server has `--max-sessions` sessions already (`QUOTA_EXCEEDED`); nothing was created.',
          'QUOTA_EXCEEDED',
        ),
        ...apiBodyFailures,
      },
    },
    {
      method: 'get',
      path: '/api/sessions/{id}',
      operationId: 'getSession',
      summary: 'One session',
      parameters: [sessionId],
      responses: { '200': described, ...onOneSession },
    },
    act(
      'start',
      'startSession',
      'Start a session',
      'Idempotent; it starts again with every server start.',
    ),
    act(
      'stop',
      'stopSession',
      'Stop a session',
      'Idempotent; it stays stopped across server starts.',
    ),
    act(
      'logout',
      'logoutSession',
      'Log a session out of WhatsApp',
      'Its login is wiped; a fresh QR follows.',
    ),
    {
      method: 'post',
      path: '/api/sessions/{id}/login',
      operationId: 'loginSession',
      summary: 'Log a session in',
      description:
        'Without a body (or `{}`), the QR to scan (null when logged in already or none is offered yet); with `phoneNumber`, a pairing code to type in WhatsApp on that phone.',
      parameters: [sessionId],
      body: { schema: SessionLoginInput.omit({ id: true }), required: false },
      responses: {
        '200': { description: 'The QR or the pairing code.', schema: SessionLoginResult },
        ...onOneSessionPosted,
        '400': apiFailure(`Not a session id, ${notJson}, or not a phone number with country code.`),
      },
    },
    {
      method: 'post',
      path: '/api/sessions/{id}/key',
      operationId: 'rotateSessionKey',
      summary: "Replace a session's own key",
      description: 'The new key is shown this once; the old one is refused at once.',
      parameters: [sessionId],
      responses: {
        '200': { description: 'The new key.', schema: RotatedKey },
        ...onOneSessionPosted,
        '400': apiFailure(
          `Not a session id, ${notJson}, or the server has no key (session keys need one).`,
        ),
      },
    },
    {
      method: 'delete',
      path: '/api/sessions/{id}',
      operationId: 'deleteSession',
      summary: 'Delete a session',
      description: 'It stops and its login is removed; with `purge=true` its polls and votes too.',
      parameters: [
        sessionId,
        {
          name: 'purge',
          in: 'query',
          description: 'Also remove its data.',
          schema: z.enum(['true', 'false']),
        },
      ],
      responses: {
        '200': { description: 'Deleted.', schema: DeletedSession },
        ...onOneSessionPosted,
        '400': apiFailure(`Not a session id, ${notJson}, or \`purge\` not true or false.`),
        '409': apiFailure('The session `default` cannot be deleted (log it out instead).'),
      },
    },
  ],
};
