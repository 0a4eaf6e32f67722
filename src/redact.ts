/**
 * A URL (or what was meant as one) with its user info hidden: `nats://***@nats.example.com:4222`. Connection
 * URLs are how NATS and Neo4j take credentials, and they appear in errors and logs; this works on text that
 * does not parse as a URL too, since those are the ones an error quotes.
 */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]+@/i, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}
