import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';

/** The parts of a `ws` WebSocket that the gate and the refusal use, with what they did to it. */
export class FakeWebSocket extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  terminated = 0;
  closed: number[] = [];

  send(text: string): void {
    this.sent.push(text);
  }

  close(code = 1005): void {
    this.closed.push(code);
    this.readyState = WebSocket.CLOSING;
  }

  terminate(): void {
    this.terminated += 1;
    this.readyState = WebSocket.CLOSED;
    this.emit('close', 1006, Buffer.alloc(0));
  }

  /** A text message from the client. */
  receive(text: string): void {
    this.emit('message', Buffer.from(text), false);
  }

  get ws(): WebSocket {
    return this as unknown as WebSocket;
  }
}
