import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { errors } from '@pollmasters/shared';

/** Where a webhook request may go: the URL and the one address it was checked against. */
export interface WebhookTarget {
  url: URL;
  /** The hostname without IPv6 brackets, for Host and TLS SNI. */
  host: string;
  address: string;
  family: 4 | 6;
}

const subnets = (list: BlockList, family: 'ipv4' | 'ipv6', cidrs: readonly string[]) => {
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    list.addSubnet(net!, Number(bits), family);
  }
};

/**
 * Addresses a webhook never reaches unless allowed: this machine, private networks, link-local,
 * shared (carrier NAT), unspecified, multicast and reserved ranges, and the IPv6 forms that
 * embed an IPv4 address (compatible, NAT64; Node's BlockList matches an IPv4-mapped IPv6
 * address against the IPv4 ranges).
 */
const forbidden = new BlockList();
subnets(forbidden, 'ipv4', [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
]);
// Not `::ffff:0:0/96` itself: BlockList maps every IPv4 address into it, so that rule would
// refuse them all; a mapped address is checked against the IPv4 ranges above instead.
subnets(forbidden, 'ipv6', [
  '::/96',
  '64:ff9b::/96',
  '100::/64',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
]);

const familyOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

/**
 * A lookup that gives up after `ms`: a resolver that never answers must not hold a delivery
 * (or a create) for ever. getaddrinfo cannot be cancelled; its late answer is ignored.
 */
const resolveWithin = (resolve: Resolve, host: string, ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([resolve(host), timedOut]).finally(() => clearTimeout(timer));
};

/** The allow list (`POLLMASTERS_WEBHOOK_ALLOW`): host names, and addresses or CIDRs. */
export interface AllowList {
  hosts: ReadonlySet<string>;
  addresses: BlockList;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

/** Parses allow-list entries; throws on one that is neither a host name, an address nor a CIDR. */
export const parseAllowList = (entries: readonly string[]): AllowList => {
  const hosts = new Set<string>();
  const addresses = new BlockList();
  for (const raw of entries) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1');
    if (entry === '') continue;
    const [net, bits, extra] = entry.split('/');
    const family = isIP(net!);
    if (family && extra === undefined) {
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (!/^\d+$/.test(bits ?? String(max)) || prefix > max) {
        throw new Error(`webhook allow list: bad prefix length in "${raw}"`);
      }
      addresses.addSubnet(net!, prefix, family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    if (bits !== undefined || !HOSTNAME.test(entry)) {
      throw new Error(`webhook allow list: "${raw}" is not a host name, address or CIDR`);
    }
    hosts.add(entry.replace(/\.$/, ''));
  }
  return { hosts, addresses };
};

/**
 * Checks webhook URLs, before they are stored and before every request: `http:`/`https:` only,
 * no credentials, and every address the host resolves to must be public unless allowed. The
 * request then goes to the address checked here (no second lookup: DNS rebinding). The lookup
 * has a timeout of its own: `lookupTimeoutMs`, or what the caller has left of its connect
 * timeout.
 */
export class AddressPolicy {
  private readonly allow: AllowList;

  constructor(
    allow: readonly string[],
    private readonly lookupTimeoutMs: number,
    private readonly resolve: Resolve = (host) => lookup(host, { all: true, verbatim: true }),
  ) {
    this.allow = parseAllowList(allow);
  }

  /** The checked target of a URL; BAD_INPUT saying why when it may not be used. */
  async target(raw: string, timeoutMs = this.lookupTimeoutMs): Promise<WebhookTarget> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw errors.badInput('url: not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw errors.badInput('url: only http: and https: URLs');
    }
    if (url.username || url.password) {
      throw errors.badInput('url: must not contain a user name or password');
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const byName = this.allow.hosts.has(host.replace(/\.$/, ''));
    let found: { address: string; family: number }[];
    if (isIP(host)) found = [{ address: host, family: isIP(host) }];
    else {
      try {
        found = await resolveWithin(this.resolve, host, timeoutMs);
      } catch (err) {
        throw errors.badInput(`url: ${host} does not resolve (${(err as Error).message})`);
      }
      if (found.length === 0) throw errors.badInput(`url: ${host} does not resolve`);
    }
    if (!byName) {
      for (const { address } of found) {
        const family = familyOf(address);
        if (forbidden.check(address, family) && !this.allow.addresses.check(address, family)) {
          throw errors.badInput(
            `url: ${host} resolves to ${address}, a loopback, private, link-local or reserved address (allow it with POLLMASTERS_WEBHOOK_ALLOW)`,
          );
        }
      }
    }
    const first = found[0]!;
    return { url, host, address: first.address, family: first.family === 6 ? 6 : 4 };
  }
}
