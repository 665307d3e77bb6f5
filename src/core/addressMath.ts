// Subnet arithmetic on address text, without sockets (the core stays pure).

import { isIPv4, isIPv6 } from 'node:net';
import type { Family } from '../config/types.js';

export function addressToBigInt(address: string): bigint {
  if (isIPv4(address)) {
    return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  }
  if (!isIPv6(address)) throw new Error(`not an IP address: ${address}`);
  let text = address.split('%')[0]!;
  // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = addressToBigInt(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headParts = head ? head.split(':').filter((p) => p !== '') : [];
  const tailParts = tail ? tail.split(':').filter((p) => p !== '') : [];
  const zeros = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  const groups = [...headParts, ...Array<string>(zeros).fill('0'), ...tailParts];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function inSubnet(address: string, network: string, prefixLength: number, family: Family): boolean {
  const bits = family === 4 ? 32 : 128;
  if (family === 4 ? !isIPv4(address) : !isIPv6(address)) return false;
  const shift = BigInt(bits - prefixLength);
  return addressToBigInt(address) >> shift === addressToBigInt(network) >> shift;
}

export function isLinkLocalV6(address: string): boolean {
  return isIPv6(address) && addressToBigInt(address) >> 118n === 0x3fan; // fe80::/10
}

/** The network of `address`/`prefixLength` (its host bits cleared), as canonical text. */
export function networkOf(address: string, prefixLength: number): string {
  const family = isIPv4(address) ? 4 : 6;
  const hostBits = BigInt((family === 4 ? 32 : 128) - prefixLength);
  return bigIntToText((addressToBigInt(address) >> hostBits) << hostBits, family);
}

/** Canonical text: IPv4 dotted decimal; IPv6 lower case with the longest zero run compressed (RFC 5952). */
export function canonicalText(address: string): string {
  if (isIPv4(address))
    return address
      .split('.')
      .map((p) => String(Number(p)))
      .join('.');
  return bigIntToText(addressToBigInt(address), 6);
}

function bigIntToText(n: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}
