import pg from 'pg';

/** One statement of a transaction: its text and parameters. */
export interface Statement {
  text: string;
  values: unknown[];
}

/** A write of a session whose fencing token is no longer the newest: another node owns it. */
export class FencedError extends Error {
  constructor(sessionId: string) {
    super(`lease lost: session ${sessionId} is fenced by a newer owner; nothing was written`);
    this.name = 'FencedError';
  }
}

// BIGINT columns hold ms timestamps, sequence numbers and ids, all far below 2^53: numbers.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Runs `work` in a transaction on a client of the pool: committed, or rolled back on a throw. */
export const withTransaction = async <T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> => {
  const client = await pool.connect();
  // A connection lost mid-transaction fails the query at hand (below) and also emits 'error',
  // which the pool listens for only while the client is idle: unheard, it would end the thread.
  client.on('error', ignore);
  const release = (err?: Error) => {
    client.removeListener('error', ignore);
    client.release(err);
  };
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    release();
    return result;
  } catch (err) {
    // A client whose rollback fails too (the server went away) is dropped, not reused.
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    release(rolledBack ? undefined : (err as Error));
    throw err;
  }
};

const ignore = (): void => {};

/** A small pool for one worker thread, shared by the sessions it hosts. */
export const createPool = (url: string, max = 4): pg.Pool =>
  new pg.Pool({ connectionString: url, max, types, idleTimeoutMillis: 30_000 });

/**
 * One session's connection to PostgreSQL: its writes, committed one transaction at a time in
 * the order they were made (a later write never overtakes an earlier one), and its reads,
 * which wait for the writes before them (the in-memory state is ahead of the database only by
 * writes in flight). With a fencing token, each transaction first locks the session's fence
 * row at that token: none commits once a newer owner installed its own.
 */
export class PgSession {
  private chain: Promise<unknown> = Promise.resolve();
  /** The statements of the transaction being built (`transaction`), else null. */
  private current: Statement[] | null = null;
  private fencedError: FencedError | null = null;

  constructor(
    readonly pool: pg.Pool,
    readonly sessionId: string,
    private readonly fence: number | undefined,
    /** Called once when a write finds the session fenced. */
    private readonly onFenced: (err: FencedError) => void = () => {},
  ) {}

  /** Installs the fencing token; refuses when a newer one is there. */
  async claim(): Promise<void> {
    if (this.fence === undefined) return;
    const { rowCount } = await this.pool.query(
      `INSERT INTO session_fences (session_id, token) VALUES ($1, $2)
       ON CONFLICT (session_id) DO UPDATE SET token = EXCLUDED.token
       WHERE session_fences.token <= EXCLUDED.token`,
      [this.sessionId, this.fence],
    );
    if (rowCount === 0) throw new FencedError(this.sessionId);
  }

  /**
   * A write: part of the transaction being built, or else a transaction of its own. The promise
   * (none inside a transaction) settles once it is committed.
   */
  exec(text: string, values: unknown[]): Promise<void> | undefined {
    if (this.current) {
      this.current.push({ text, values });
      return undefined;
    }
    return this.commit([{ text, values }]);
  }

  /** Runs `build`, whose writes (`exec`) make one transaction; settles once it is committed. */
  transaction(build: () => void): Promise<void> {
    if (this.current) {
      build();
      return Promise.resolve();
    }
    const statements: Statement[] = [];
    this.current = statements;
    try {
      build();
    } finally {
      this.current = null;
    }
    return this.commit(statements);
  }

  /**
   * A read, after the writes made before it. It does not join the chain: a write made after it
   * need not wait for it (a login key read while a vote batch commits).
   */
  read<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    return this.chain.then(() => this.pool.query<R>(text, values)).then((r) => r.rows);
  }

  /** A write of its own whose rows (RETURNING) are wanted: committed in order, fenced. */
  returning<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    const run = this.chain.then(() => this.run([{ text, values }]));
    this.chain = run.catch(() => {});
    return run as Promise<R[]>;
  }

  /** Settles once every write made so far is committed (or failed). */
  settled(): Promise<void> {
    return this.chain.then(() => {});
  }

  private commit(statements: Statement[]): Promise<void> {
    if (statements.length === 0) return this.chain.then(() => {});
    const run = this.chain.then(() => this.run(statements));
    this.chain = run.catch(() => {});
    return run.then(() => {});
  }

  /** One transaction; the rows of its last statement. */
  private async run(statements: readonly Statement[]): Promise<pg.QueryResultRow[]> {
    if (this.fencedError) throw this.fencedError;
    return withTransaction(this.pool, async (client) => {
      if (this.fence !== undefined) {
        const { rowCount } = await client.query(
          'UPDATE session_fences SET token = token WHERE session_id = $1 AND token = $2',
          [this.sessionId, this.fence],
        );
        if (rowCount === 0) {
          // Checked again here: the transactions of one session run one after another.
          if (!this.fencedError) {
            this.fencedError = new FencedError(this.sessionId);
            this.onFenced(this.fencedError);
          }
          throw this.fencedError;
        }
      }
      let rows: pg.QueryResultRow[] = [];
      for (const s of statements) rows = (await client.query(s.text, s.values)).rows;
      return rows;
    });
  }
}
