import { WEEKDAYS, type Config } from '../config/schema.ts';
import type { Notification } from './notification.ts';

export type NotifyConfig = Config['notify'];
export type Route = NotifyConfig['routes'][number];
export type TimeWindow = NonNullable<NonNullable<Route['match']>['time']>;

/** When a notification is routed: the instant (ms since the epoch) and the IANA zone time windows are read in. */
export interface RoutingTime {
  now: number;
  timeZone: string;
}

/**
 * The first route that takes a notification (design section 9: first match wins, a route without `match` takes
 * all), or undefined: every condition a route states must hold. `at` is only read by routes with a time window;
 * the outbox passes its clock and `notify.timezone`.
 */
export function matchingRoute(routes: readonly Route[], notification: Notification, at?: RoutingTime): Route | undefined {
  return routes.find((r) => routeMatches(r, notification, at));
}

/** The channel names of the first matching route; an empty list means none matched (the outbox dead-letters it). */
export function routeChannels(routes: readonly Route[], notification: Notification, at?: RoutingTime): string[] {
  const route = matchingRoute(routes, notification, at);
  return route ? [...new Set(route.channels)] : [];
}

export function routeMatches(route: Route, notification: Notification, at: RoutingTime = { now: Date.now(), timeZone: 'UTC' }): boolean {
  const match = route.match;
  if (!match) return true;
  if (match.team !== undefined && match.team !== notification.team) return false;
  if (match.severity !== undefined && match.severity !== notification.severity) return false;
  if (match.kind !== undefined && !match.kind.includes(notification.kind)) return false;
  if (match.change !== undefined && (notification.change === undefined || !match.change.includes(notification.change))) return false;
  for (const [key, value] of Object.entries(match.tags ?? {})) {
    if (notification.tags[key] !== value) return false;
  }
  if (match.time !== undefined && !inWindow(match.time, localTime(at.now, at.timeZone))) return false;
  return true;
}

export type Weekday = (typeof WEEKDAYS)[number];

/** A wall-clock reading in some zone: the day of the week and minutes since local midnight. */
export interface LocalTime {
  day: Weekday;
  minutes: number;
}

/**
 * Whether a window holds at a local time. A window whose `to` is before its `from` wraps past midnight, and its
 * hours after midnight count for the day it started on (Friday 22:00 to 06:00 holds on Saturday at 02:00, not on
 * Friday at 02:00). `to` is exclusive: 08:00 to 18:00 holds at 17:59, not at 18:00.
 */
export function inWindow(window: TimeWindow, at: LocalTime): boolean {
  const onDay = (day: Weekday) => window.days === undefined || window.days.includes(day);
  if (window.from === undefined || window.to === undefined) return onDay(at.day);
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  if (from < to) return onDay(at.day) && at.minutes >= from && at.minutes < to;
  // Wrapping: the evening part on the window's own day, the morning part on the day after it.
  if (at.minutes >= from) return onDay(at.day);
  return at.minutes < to && onDay(previousDay(at.day));
}

/** "08:30" → 510; configuration loading has already checked the format. */
function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function previousDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + WEEKDAYS.length - 1) % WEEKDAYS.length]!;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The day of the week and the minute of the day at `now` in `timeZone`, daylight saving time included. */
export function localTime(now: number, timeZone: string): LocalTime {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  return {
    day: String(parts.weekday).slice(0, 3).toLowerCase() as Weekday,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}
