import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import type { Principal } from './context.ts';

const ANONYMOUS: Principal = { name: 'anonymous', scopes: ['read', 'write'] };

/**
 * The principal for an Authorization header, or undefined when the request must be refused. With
 * `api.auth: none` (only by explicit configuration, or `faultline dev` on loopback) everyone may read and write.
 */
export function authenticate(header: string | null | undefined, api: Config['api']): Principal | undefined {
  if (api.auth === 'none') return ANONYMOUS;
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!presented) return undefined;
  // Compared with every token, each in constant time, so the response time says nothing about near misses.
  let match: Principal | undefined;
  for (const token of api.tokens) {
    if (sameSecret(presented, token.token)) match = { name: token.name, scopes: token.scopes };
  }
  return match;
}

/** Constant time whatever the lengths: both sides are hashed to one size first, so not even the length leaks. */
export function sameSecret(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Whether one of `presented` (hex signatures a sender put in a header) is the HMAC-SHA256 of `message` with one of
 * `secrets`: how PagerDuty and Slack sign what they send. Compared in constant time.
 */
export function signedWithOneOf(presented: readonly string[], message: Buffer, secrets: readonly string[]): boolean {
  const given = presented.map((hex) => Buffer.from(hex, 'hex'));
  return secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(message).digest();
    return given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
  });
}
