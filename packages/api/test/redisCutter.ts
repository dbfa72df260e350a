import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay to Redis on loopback that a test can cut: every connection through it is dropped
 * (with whatever replies were on their way) and new ones are refused until it is restored, as a
 * node's network to Redis fails for a while.
 */
export class RedisCutter {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private readonly server: Server;

  private constructor(
    private readonly target: { host: string; port: number },
    ready: () => void,
  ) {
    this.server = createServer((client) => {
      if (this.cut) {
        client.destroy();
        return;
      }
      const upstream = createConnection(this.target);
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(from);
        from.pipe(to);
        from.on('error', () => to.destroy());
        from.on('close', () => {
          this.sockets.delete(from);
          to.destroy();
        });
      }
    });
    this.server.listen(0, '127.0.0.1', ready);
  }

  static async start(redisUrl: string): Promise<RedisCutter> {
    const { hostname, port } = new URL(redisUrl);
    let cutter: RedisCutter | undefined;
    await new Promise<void>((resolve) => {
      cutter = new RedisCutter({ host: hostname, port: Number(port || 6379) }, resolve);
    });
    return cutter!;
  }

  /** The URL to give the node that is to be cut off. */
  get url(): string {
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('the relay is not listening');
    return `redis://127.0.0.1:${address.port}`;
  }

  /** Drops every connection through it and refuses new ones. */
  cutOff(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.cutOff();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
