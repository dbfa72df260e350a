import { isLidUser, isPnUser } from '@whiskeysockets/baileys';
import type { Identity } from './identity.js';

/** A person's one id, and their other form (their LID when the id is their PN). */
export interface Canonical {
  /** The PN when known, else the LID (or whatever signed, if neither). */
  id: string;
  aliases: string[];
}

/**
 * One id per person, for voters and poll creators alike: the PN when known (from the JIDs a
 * message names, or WhatsApp's LID mapping), else the LID. Mapping answers are cached; a
 * lookup that found nothing is believed only briefly (`missMs`), as the mapping may learn it.
 */
export class PersonIds {
  /** PN -> LID and LID -> PN, as the mapping answered (answers do not change). */
  private readonly mapped = new Map<string, string>();
  /** JIDs the mapping did not know, until when (ms) not to ask again. */
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly identity: Pick<Identity, 'pnForLid' | 'lidForPn'>,
    private readonly missMs = 10_000,
  ) {}

  /**
   * The canonical id of whoever `signer` is, given the other JIDs the message names for them;
   * the other form comes back as an alias, so that what is stored under it is taken over
   * rather than counted twice. Synchronous when the JIDs name both forms or the lookup's
   * answer is cached; a promise only when the mapping must be asked.
   */
  of(signer: string, named: readonly { jid: string }[]): Canonical | Promise<Canonical> {
    let pn = isPnUser(signer) ? signer : undefined;
    let lid = isLidUser(signer) ? signer : undefined;
    for (const { jid } of named) {
      if (!pn && isPnUser(jid)) pn = jid;
      else if (!lid && isLidUser(jid)) lid = jid;
    }
    if (pn && lid) return { id: pn, aliases: [lid] };
    const from = pn ?? lid;
    if (!from) return { id: signer, aliases: [] };
    const cached = this.cached(from);
    if (cached !== null) return canonical(signer, pn ?? cached, lid ?? cached);
    const lookup = pn ? this.identity.lidForPn(pn) : this.identity.pnForLid(from);
    return lookup.then((found) => {
      this.remember(from, found);
      return canonical(signer, pn ?? found, lid ?? found);
    });
  }

  /**
   * WhatsApp's PN <-> LID mapping may have changed (Baileys' `lid-mapping.update`): forget the
   * lookups that found nothing, so the next one asks again.
   */
  mappingChanged(): void {
    this.misses.clear();
  }

  /** Forgets every cached mapping (after a logout: another account, another mapping). */
  forget(): void {
    this.mapped.clear();
    this.misses.clear();
  }

  /** The cached other form of `jid`; undefined for a recent miss; null when not cached. */
  private cached(jid: string): string | undefined | null {
    const hit = this.mapped.get(jid);
    if (hit !== undefined) return hit;
    const until = this.misses.get(jid);
    if (until === undefined) return null;
    if (until > Date.now()) return undefined;
    this.misses.delete(jid);
    return null;
  }

  private remember(jid: string, found: string | undefined): void {
    if (found) {
      this.mapped.set(jid, found);
      this.misses.delete(jid);
    } else {
      // A mapping unknown now may be learnt later: remember the miss only briefly.
      if (this.misses.size >= MAX_MISSES) this.misses.clear();
      this.misses.set(jid, Date.now() + this.missMs);
    }
  }
}

const canonical = (signer: string, pn: string | undefined, lid: string | undefined): Canonical =>
  pn ? { id: pn, aliases: lid ? [lid] : [] } : { id: signer, aliases: [] };

/** Bounds the miss cache (each entry lives `missMs` anyway). */
const MAX_MISSES = 100_000;
