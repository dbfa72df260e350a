import { BroadcastChannel } from 'node:worker_threads';
import type { PollCreator } from '@pollmasters/shared';
import { ControlMessage, type SandboxEvent } from './channel.js';
import type { Network } from './network.js';

/**
 * The network's end of the sandbox's BroadcastChannel: it posts the network's events and, once
 * `serve` is called, acts on the control messages that arrive (./probe.ts is the other end).
 */
export class ControlChannel {
  private readonly channel: BroadcastChannel;
  private closed = false;

  constructor(name: string) {
    this.channel = new BroadcastChannel(name);
    // The network is background scenery: it must never be what keeps a process alive.
    this.channel.unref();
  }

  readonly post = (message: SandboxEvent): void => {
    if (!this.closed) this.channel.postMessage(message);
  };

  /** From now on, control messages act on `network`. */
  serve(network: Network): void {
    this.channel.onmessage = (event) => {
      if (!this.closed) handleControl(network, (event as MessageEvent).data);
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
  }
}

/** Acts on a message from the sandbox channel; anything that is not a control message is ignored. */
function handleControl(network: Network, data: unknown): void {
  const parsed = ControlMessage.safeParse(data);
  // Our own posts (casts, replies) and other tools share the channel: not for us.
  if (!parsed.success) return;
  const control = parsed.data;
  switch (control.type) {
    case 'vote': {
      // Another network on the same channel may own this poll: only answer for ours.
      if (!network.hasPoll(control.pollId)) return;
      const { requestId } = control;
      try {
        const vote = network.people.vote(control.pollId, control.voter, control.options);
        if (requestId !== undefined) network.post({ type: 'voted', requestId, vote });
      } catch (err) {
        network.logger.warn({ err, pollId: control.pollId }, 'sandbox: control vote refused');
        if (requestId !== undefined) {
          network.post({ type: 'error', requestId, message: (err as Error).message });
        }
      }
      return;
    }
    case 'logoutFromPhone':
      network.logoutFromPhone();
      return;
    case 'dropConnection':
      network.dropConnection();
      return;
    case 'burstKeys': {
      // Another network in this process may carry these polls: answer only for our own.
      if (!control.pollIds.every((id) => network.hasPoll(id))) return;
      const { requestId } = control;
      try {
        const keys = control.pollIds.map((id) => network.people.burstKeys(id));
        network.post({ type: 'burstKeys', requestId, keys });
      } catch (err) {
        network.post({ type: 'error', requestId, message: (err as Error).message });
      }
      return;
    }
    case 'voteBurst': {
      if (!control.votes.every((v) => network.hasPoll(v.pollId))) return;
      const { requestId } = control;
      network.people.burst(control.votes, control).then(
        (result) => network.post({ type: 'burst', requestId, ...result }),
        (err: Error) => network.post({ type: 'error', requestId, message: err.message }),
      );
      return;
    }
    case 'ledger': {
      const polls: Record<string, Record<string, string[]>> = {};
      const pending: Record<string, number> = {};
      const creators: Record<string, PollCreator> = {};
      for (const poll of network.sentPolls()) {
        polls[poll.id] = network.ledger.expected(poll.id);
        pending[poll.id] = network.pending(poll.id);
        creators[poll.id] = network.creators.creatorOf(poll);
      }
      network.post({ type: 'ledger', requestId: control.requestId, polls, pending, creators });
      return;
    }
    case 'createPoll': {
      const { requestId } = control;
      try {
        const poll = network.creators.create(control.poll);
        network.post({ type: 'pollCreated', requestId, poll });
      } catch (err) {
        network.post({ type: 'error', requestId, message: (err as Error).message });
      }
      return;
    }
    case 'releasePoll': {
      // Another network on the same channel may hold this poll: only answer for ours.
      if (!network.hasPoll(control.pollId)) return;
      const { requestId, pollId } = control;
      if (network.release(pollId)) network.post({ type: 'released', requestId, pollId });
      else network.post({ type: 'error', requestId, message: `poll ${pollId} is not held back` });
      return;
    }
  }
}
