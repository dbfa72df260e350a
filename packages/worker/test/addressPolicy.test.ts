import { describe, expect, it } from 'vitest';
import { AddressPolicy, parseAllowList } from '../src/webhooks/addressPolicy.js';

// Issue #19: where a webhook may go, checked after DNS, against every address a name has.

const dns: Record<string, { address: string; family: number }[]> = {
  'hooks.example.com': [{ address: '93.184.215.14', family: 4 }],
  'mixed.example.com': [
    { address: '93.184.215.14', family: 4 },
    { address: '10.1.2.3', family: 4 },
  ],
  'rebind.example.com': [{ address: '::ffff:169.254.169.254', family: 6 }],
  'v6.example.com': [{ address: '2606:4700::6810:84e5', family: 6 }],
  'nat64.example.com': [{ address: '64:ff9b::7f00:1', family: 6 }],
  'lan.internal': [{ address: '192.168.7.7', family: 4 }],
};
const resolve = async (host: string) => {
  const found = dns[host];
  if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  return found;
};
const policy = (allow: string[] = []) => new AddressPolicy(allow, 5_000, resolve);
const refusal = async (p: AddressPolicy, url: string) =>
  p.target(url).then(
    () => 'allowed',
    (err: { code?: string; message: string }) => `${err.code}: ${err.message}`,
  );

describe('AddressPolicy', () => {
  it('takes public addresses, and connects to the address it checked', async () => {
    await expect(policy().target('https://hooks.example.com/x?y=1')).resolves.toMatchObject({
      host: 'hooks.example.com',
      address: '93.184.215.14',
      family: 4,
    });
    await expect(policy().target('http://v6.example.com/')).resolves.toMatchObject({
      address: '2606:4700::6810:84e5',
      family: 6,
    });
  });

  it('refuses a name when any of its addresses is private, loopback, link-local or embeds one', async () => {
    for (const url of [
      'http://mixed.example.com/',
      'http://rebind.example.com/',
      'http://nat64.example.com/',
      'http://lan.internal/',
      'http://[fe80::1]/',
      'http://[fd00::1]/',
      'http://100.64.0.1/',
      'http://224.0.0.1/',
      'http://[::]/',
    ]) {
      expect(await refusal(policy(), url), url).toMatch(/^BAD_INPUT: url: .* resolves to/);
    }
    expect(await refusal(policy(), 'http://nowhere.example.com/')).toMatch(
      /^BAD_INPUT: url: nowhere.example.com does not resolve/,
    );
    expect(await refusal(policy(), 'ftp://hooks.example.com/')).toMatch(/only http/);
    expect(await refusal(policy(), 'http://a:b@hooks.example.com/')).toMatch(/user name/);
  });

  it('gives up on a lookup that never answers, with the timeout given or its own', async () => {
    const silent = () => new Promise<never>(() => {});
    const stuck = new AddressPolicy([], 40, silent);
    expect(await refusal(stuck, 'https://hooks.example.com/')).toBe(
      'BAD_INPUT: url: hooks.example.com does not resolve (no answer within 40 ms)',
    );
    // A delivery passes what is left of its connect timeout.
    await expect(stuck.target('https://hooks.example.com/', 25)).rejects.toThrow(
      /no answer within 25 ms/,
    );
    // An address needs no lookup.
    expect(await refusal(stuck, 'https://93.184.215.14/')).toBe('allowed');
  });

  it('allows what the list names: a host by name, or a CIDR holding every address', async () => {
    expect(await refusal(policy(['lan.internal']), 'http://lan.internal/')).toBe('allowed');
    expect(await refusal(policy(['192.168.0.0/16']), 'http://lan.internal/')).toBe('allowed');
    expect(await refusal(policy(['192.168.8.0/24']), 'http://lan.internal/')).toMatch(/BAD_INPUT/);
    expect(await refusal(policy(['10.0.0.0/8']), 'http://mixed.example.com/')).toBe('allowed');
    // A mapped address is matched against the IPv4 ranges it embeds.
    expect(await refusal(policy(['169.254.169.254']), 'http://rebind.example.com/')).toBe(
      'allowed',
    );
  });

  it('refuses an allow list entry that is neither a host name, an address nor a CIDR', () => {
    for (const bad of ['10.0.0.0/33', 'not a host', 'http://x/', '10.0.0.0/8/1', '::1/129']) {
      expect(() => parseAllowList([bad]), bad).toThrow(/webhook allow list/);
    }
    expect(parseAllowList(['Hooks.LAN.', ' 127.0.0.1 ', '::1', '', '[::1]']).hosts).toEqual(
      new Set(['hooks.lan']),
    );
  });
});
