import type { Config } from '../config/schema.ts';
import type { Notification } from './notification.ts';

export type NotifyConfig = Config['notify'];
export type Route = NotifyConfig['routes'][number];

/**
 * The channel names a notification goes to: those of the first route that matches it (design section 9:
 * first match wins, a route without `match` takes all). Every condition a route states must hold; an empty
 * list means no route matched, which the outbox dead-letters rather than drops.
 */
export function routeChannels(routes: readonly Route[], notification: Notification): string[] {
  const route = routes.find((r) => routeMatches(r, notification));
  return route ? [...new Set(route.channels)] : [];
}

export function routeMatches(route: Route, notification: Notification): boolean {
  const match = route.match;
  if (!match) return true;
  if (match.team !== undefined && match.team !== notification.team) return false;
  if (match.severity !== undefined && match.severity !== notification.severity) return false;
  for (const [key, value] of Object.entries(match.tags ?? {})) {
    if (notification.tags[key] !== value) return false;
  }
  return true;
}
