import {
  AllPollDataResponse,
  Chat,
  FailureResponse,
  GetChatsResponse,
  Limits,
  LogoutResponse,
  PollData,
  SendPollRequest,
  SendPollResponse,
  SessionStatus,
  StatusResponse,
  WhatsAppUser,
} from '@pollmasters/shared';
import type { ApiArea } from '../area.js';
import { compatBodyFailures, compatFailure, compatFailures } from '../failures.js';

const notReady = compatFailure(
  'WhatsApp is not connected (`status` is not `ready`); nothing was sent.',
);

/**
 * The compat API of the Python desktop GUI (../../compat/routes.ts), exactly as
 * docs/contract/backend-api-endpoints.txt has it. It serves the session `default`.
 */
export const compatArea: ApiArea = {
  tag: 'compat',
  description:
    "The desktop GUI's API (docs/contract/backend-api-endpoints.txt), for the session `default`. Its Socket.IO events (`client_status`, `qr_code`, `whatsapp_user`, `initial_poll_data`, `new_poll_sent`, `poll_update_to_gui`) are not HTTP and not described here: see the README.",
  schemas: {
    StatusResponse,
    SessionStatus,
    WhatsAppUser,
    SendPollRequest,
    SendPollResponse,
    Chat,
    GetChatsResponse,
    LogoutResponse,
    PollData,
    AllPollDataResponse,
    FailureResponse,
  },
  routes: [
    {
      method: 'get',
      path: '/status',
      operationId: 'getStatus',
      summary: 'The WhatsApp connection status',
      description:
        'With the QR payload to scan (`qrCode`) while `qr_pending`, and the account (`user`) when `ready`.',
      responses: {
        '200': { description: 'The status.', schema: StatusResponse },
        ...compatFailures,
      },
    },
    {
      method: 'post',
      path: '/send-poll',
      operationId: 'sendPoll',
      summary: 'Send a poll to a chat',
      description: `\`allowMultipleAnswers: true\` lets a voter pick any number of options, \`false\` one. Options are trimmed, unique, ${Limits.minOptions} to ${Limits.maxOptions}.`,
      body: { schema: SendPollRequest },
      responses: {
        '200': { description: "Sent; `pollMsgId` is the poll's id.", schema: SendPollResponse },
        '400': compatFailure(
          'The body is not a valid poll (`message` says why); nothing was sent.',
        ),
        '404': compatFailure('No such chat; nothing was sent.'),
        '409': notReady,
        ...compatBodyFailures,
      },
    },
    {
      method: 'get',
      path: '/get-chats',
      operationId: 'getChats',
      summary: "The account's chats and groups",
      responses: {
        '200': { description: 'Every chat.', schema: GetChatsResponse },
        '409': notReady,
        ...compatFailures,
      },
    },
    {
      method: 'post',
      path: '/logout',
      operationId: 'logout',
      summary: 'Log the session `default` out of WhatsApp',
      description: 'Its login is wiped; a fresh QR follows (`GET /status`).',
      responses: {
        '200': { description: 'Logged out.', schema: LogoutResponse },
        '400': compatFailure('A body was sent and is not valid JSON; nothing was done.'),
        ...compatBodyFailures,
      },
    },
    {
      method: 'get',
      path: '/get-all-poll-data',
      operationId: 'getAllPollData',
      summary: 'Every tracked poll with its results and voters',
      description:
        '`polls` maps each poll id to its data: `optionHashes` maps the SHA-256 hex of each option to its text, `voters` each voter JID to the hashes it selected.',
      responses: {
        '200': { description: 'The polls.', schema: AllPollDataResponse },
        ...compatFailures,
      },
    },
  ],
};
