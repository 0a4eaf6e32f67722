/** What must never reach an error, a log line or a dead letter, hidden. */

/**
 * A URL (or what was meant as one) with its user info hidden: `nats://***@nats.example.com:4222`. Connection
 * URLs are how NATS and Neo4j take credentials, and they appear in errors and logs; this works on text that
 * does not parse as a URL too, since those are the ones an error quotes.
 */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]+@/i, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/**
 * What of a URL may be a secret: all of it, its path and query (a Slack webhook's path is its token; a receiver
 * may echo the path it refused) and its user info. fetch names the whole URL in some errors.
 */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    return [url, u.href, `${u.pathname}${u.search}`, u.search.slice(1), decodeURIComponent(u.username), decodeURIComponent(u.password)];
  } catch {
    return [url];
  }
}

/** `text` with every occurrence of a secret replaced by `***`, the longest first (a URL before its parts). */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) if (secret.length >= 4) out = out.replaceAll(secret, '***');
  return out;
}
