import type {
  CreatedSession,
  CreateSessionInput,
  DeletedSession,
  DeleteSessionInput,
  Principal,
  RotatedKey,
  SessionInfo,
  SessionLoginInput,
  SessionLoginResult,
} from '@pollmasters/shared';
import {
  CreateSessionInput as CreateSchema,
  DeleteSessionInput as DeleteSchema,
  errors,
  SessionLoginInput as LoginSchema,
  parseInput,
} from '@pollmasters/shared';
import { assertAdmin, assertMaySee, maySee } from '../access.js';
import { mintScopedKey } from './scopedKeys.js';
import type { ManagedSession, SessionManager } from './sessionManager.js';

/** A session as the API describes it (never its QR, nor anything of its key). */
export const describeSession = ({
  record: { keyHash: _keyHash, ...record },
  service,
}: ManagedSession): SessionInfo => ({
  ...record,
  run: service.runState,
  status: service.sessionState.status,
  user: service.sessionState.user,
  polls: service.pollCount,
  ...(service.runsOn === null ? {} : { node: service.runsOn }),
});

/**
 * The session operations of the API, for tRPC and HTTP alike: each validates its input, lets
 * a caller act only on what its key may use (../access.ts: a session's key, its own session)
 * and answers with the session as `describeSession` tells it.
 */
export class SessionControl {
  constructor(private readonly sessions: SessionManager) {}

  /** The sessions the caller may see: all, or its own. */
  list(caller: Principal): SessionInfo[] {
    return this.sessions
      .list()
      .filter((s) => maySee(caller, s.record.id))
      .map(describeSession);
  }

  get(caller: Principal, id: string): SessionInfo {
    assertMaySee(caller, id);
    return describeSession(this.sessions.require(id));
  }

  /** With `scopedKey`, the answer holds the session's own key: the only time it is shown. */
  async create(caller: Principal, raw: CreateSessionInput): Promise<CreatedSession> {
    assertAdmin(caller, 'creating a session');
    const input = parseInput(CreateSchema, raw);
    if (input.scopedKey) this.assertKeysMatter();
    const key = input.scopedKey ? mintScopedKey() : null;
    const created = await this.sessions.create({ ...input, keyHash: key?.keyHash });
    const info = describeSession(input.start ? await this.sessions.start(input.id) : created);
    return key ? { ...info, apiKey: key.apiKey } : info;
  }

  /** A new own key for the session, shown this once; its old key is refused from now on. */
  async rotateKey(caller: Principal, id: string): Promise<RotatedKey> {
    assertMaySee(caller, id);
    this.sessions.require(id);
    this.assertKeysMatter();
    const key = mintScopedKey();
    await this.sessions.setKeyHash(id, key.keyHash);
    return { id, apiKey: key.apiKey };
  }

  async start(caller: Principal, id: string): Promise<SessionInfo> {
    assertMaySee(caller, id);
    return describeSession(await this.sessions.start(id));
  }

  async stop(caller: Principal, id: string): Promise<SessionInfo> {
    assertMaySee(caller, id);
    return describeSession(await this.sessions.stop(id));
  }

  /** Logs the account out of WhatsApp (its login is wiped); a fresh QR follows. */
  async logout(caller: Principal, id: string): Promise<SessionInfo> {
    assertMaySee(caller, id);
    const session = this.sessions.require(id);
    await session.service.logout();
    return describeSession(session);
  }

  /** With a phone number, a pairing code to type on the phone; else the QR to scan. */
  async login(caller: Principal, raw: SessionLoginInput): Promise<SessionLoginResult> {
    const input = parseInput(LoginSchema, raw);
    assertMaySee(caller, input.id);
    const { service } = this.sessions.require(input.id);
    if (input.phoneNumber) {
      return { method: 'pairingCode', code: await service.requestPairingCode(input.phoneNumber) };
    }
    const { status, qr } = service.sessionState;
    return { method: 'qr', status, qr };
  }

  async delete(caller: Principal, raw: DeleteSessionInput): Promise<DeletedSession> {
    const input = parseInput(DeleteSchema, raw);
    assertMaySee(caller, input.id);
    await this.sessions.delete(input.id, { purge: input.purge });
    return { id: input.id, purged: input.purge };
  }

  /** Without the server's key every caller may use every session: a session key would guard nothing. */
  private assertKeysMatter(): void {
    if (!this.sessions.config.apiKey) {
      throw errors.badInput(
        'scopedKey: this server has no API key (POLLMASTERS_API_KEY), so no key is needed at all; set one to use session keys',
      );
    }
  }
}
