import type { OptionCount, PollEvent } from '@pollmasters/shared';

interface Known {
  question: string;
  chatId: string;
}

const bar = (count: number) => '#'.repeat(Math.min(count, 40));

/**
 * Turns `polls.updates` events into lines for a terminal: a block per new poll (or per poll
 * of the first snapshot), a line per vote change with the new counts.
 */
export class PollBoard {
  private readonly polls = new Map<string, Known>();
  private synced = false;

  constructor(private readonly print: (line: string) => void) {}

  apply(event: PollEvent): void {
    switch (event.type) {
      case 'pollSent':
      case 'pollState': {
        const { poll } = event;
        this.polls.set(poll.id, { question: poll.question, chatId: poll.chatId });
        const label = event.type === 'pollSent' ? 'new poll' : 'poll';
        this.print(`\n[${label}] ${poll.question}  (${poll.chatId}, ${poll.voters.length} voters)`);
        this.printCounts(event.counts);
        return;
      }
      case 'votes': {
        for (const poll of event.polls) {
          const known = this.polls.get(poll.pollId);
          const who = poll.changes
            .map((c) => `${c.name ?? c.voter}${c.selected.length === 0 ? ' (withdrew)' : ''}`)
            .join(', ');
          this.print(`[votes] ${known?.question ?? poll.pollId} (${poll.chatId}): ${who}`);
          this.printCounts(poll.counts);
        }
        return;
      }
      case 'synced':
        if (!this.synced) this.print(`-- ${this.polls.size} polls; live from here`);
        this.synced = true;
        return;
    }
  }

  private printCounts(counts: readonly OptionCount[]): void {
    const width = Math.max(...counts.map((c) => c.name.length), 4);
    for (const c of counts)
      this.print(`    ${c.name.padEnd(width)} ${String(c.count).padStart(3)} ${bar(c.count)}`);
  }
}
