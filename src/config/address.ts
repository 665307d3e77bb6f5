// Address text: parse, canonicalise, classify.

import { isIP } from 'node:net';
import { canonicalText, isLinkLocalV6 } from '../core/addressMath.js';
import type { Cidr, Family } from './types.js';

/** Canonical text (IPv6 compressed, lower case) or undefined if not an address. */
export function canonicalAddress(text: string): string | undefined {
  if (isIP(text) === 0 || text.includes('%')) return undefined;
  return canonicalText(text);
}

export function parseCidr(text: string): { ok: true; cidr: Cidr } | { ok: false; error: string } {
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, error: `"${text}" needs a prefix length, e.g. ${text}/24` };
  const address = canonicalAddress(text.slice(0, slash));
  if (!address) return { ok: false, error: `"${text.slice(0, slash)}" is not an IPv4 or IPv6 address` };
  const family: Family = address.includes(':') ? 6 : 4;
  const lenText = text.slice(slash + 1);
  const prefixLength = Number(lenText);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || prefixLength > max)
    return { ok: false, error: `prefix length "${lenText}" must be 0..${max}` };
  return { ok: true, cidr: { address, prefixLength, family } };
}

export { isLinkLocalV6 };
