import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';
import type { Notification } from '../../src/notify/notification.ts';

/** A page for team:dba about db1 taking the mail service down, with `overrides` merged over it. */
export function aNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    kind: 'page',
    team: 'team:dba',
    contacts: ['email:dba@example.com', 'slack:#dba'],
    teamServices: [],
    severity: 'critical',
    incident: {
      id: 'inc-00000000000000d1',
      status: 'open',
      root: ['db1.example.com'],
      suppressed: ['mail1.example.com/mailq', 'mail1.example.com/smtp'],
      affectedServices: ['service:mail'],
      owners: ['team:dba'],
      stakeholders: ['team:mail'],
      rootAlerts: [{ id: 'db1.example.com/mysql', status: 'critical', text: 'connection refused' }],
      openedAt: '2026-11-21T10:00:00.000Z',
      updatedAt: '2026-11-21T10:00:05.000Z',
    },
    summary: 'db1.example.com is failing: 1 service affected (service:mail)',
    tags: { dc: 'dc1' },
    dedupKey: 'inc-00000000000000d1/page/team:dba',
    createdAt: '2026-11-21T10:00:05.000Z',
    ...overrides,
  };
}

/** A logger at info level whose JSON lines the test can read back. */
export function capturedLog(): { log: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log: createLogger('info', sink), lines, text };
}

/** Polls `check` until it returns true, failing with `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
