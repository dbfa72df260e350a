import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookEvent } from '@pollmasters/shared';

/** One request a receiver got, as it came. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed with the shared schema. */
  event: WebhookEvent;
  /** What the receiver answered (null: it never answered). */
  answered: number | null;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/** How the receiver answers a request: a status, or `hang` (never answers). */
export type Answer = number | 'hang';

/**
 * A real webhook receiver on loopback: records every request (emitting `request`), answers as
 * `answer` says (200 by default).
 */
export class WebhookReceiver extends EventEmitter<{ request: [Received] }> {
  readonly received: Received[] = [];
  answer: (r: Omit<Received, 'answered'>, index: number) => Answer = () => 200;
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request = {
        headers: req.headers,
        body,
        event: WebhookEvent.parse(JSON.parse(body)),
        at: Date.now(),
      };
      const answer = this.answer(request, this.received.length);
      const received: Received = { ...request, answered: answer === 'hang' ? null : answer };
      this.received.push(received);
      this.emit('request', received);
      if (answer === 'hang') {
        this.hanging.add(res);
        return;
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });

  /** Listens on 127.0.0.1; resolves with the URL to give PollMasters. */
  async start(path = '/hook'): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The requests that were answered 2xx. */
  get delivered(): Received[] {
    return this.received.filter((r) => r.answered !== null && r.answered < 300);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
