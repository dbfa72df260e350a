import type {
  CreateSessionInput,
  DeleteSessionInput,
  SessionInfo,
  SessionLoginInput,
  SessionLoginResult,
} from '@pollmasters/shared';
import {
  CreateSessionInput as CreateSchema,
  DeleteSessionInput as DeleteSchema,
  SessionLoginInput as LoginSchema,
  parseInput,
} from '@pollmasters/shared';
import type { ManagedSession, SessionManager } from './sessionManager.js';

/** A session as the API describes it (never its QR: that is `login`'s answer). */
export const describeSession = ({ record, service }: ManagedSession): SessionInfo => ({
  ...record,
  run: service.workerState,
  status: service.sessionState.status,
  user: service.sessionState.user,
  polls: service.pollCount,
});

/**
 * The session operations of the API, for tRPC and HTTP alike: each validates its input and
 * answers with the session as `describeSession` tells it.
 */
export class SessionControl {
  constructor(private readonly sessions: SessionManager) {}

  list(): SessionInfo[] {
    return this.sessions.list().map(describeSession);
  }

  get(id: string): SessionInfo {
    return describeSession(this.sessions.require(id));
  }

  async create(raw: CreateSessionInput): Promise<SessionInfo> {
    const input = parseInput(CreateSchema, raw);
    const created = await this.sessions.create(input);
    return describeSession(input.start ? await this.sessions.start(input.id) : created);
  }

  async start(id: string): Promise<SessionInfo> {
    return describeSession(await this.sessions.start(id));
  }

  async stop(id: string): Promise<SessionInfo> {
    return describeSession(await this.sessions.stop(id));
  }

  /** Logs the account out of WhatsApp (its login is wiped); a fresh QR follows. */
  async logout(id: string): Promise<SessionInfo> {
    const session = this.sessions.require(id);
    await session.service.logout();
    return describeSession(session);
  }

  /** With a phone number, a pairing code to type on the phone; else the QR to scan. */
  async login(raw: SessionLoginInput): Promise<SessionLoginResult> {
    const input = parseInput(LoginSchema, raw);
    const { service } = this.sessions.require(input.id);
    if (input.phoneNumber) {
      return { method: 'pairingCode', code: await service.requestPairingCode(input.phoneNumber) };
    }
    const { status, qr } = service.sessionState;
    return { method: 'qr', status, qr };
  }

  async delete(raw: DeleteSessionInput): Promise<{ id: string; purged: boolean }> {
    const input = parseInput(DeleteSchema, raw);
    await this.sessions.delete(input.id, { purge: input.purge });
    return { id: input.id, purged: input.purge };
  }
}
