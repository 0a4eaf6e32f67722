import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsAnswers } from '../bus/nats.ts';
import { isAlive, readPid, startDaemon, stopDaemon, waitUntilReady } from './process.ts';

/** The local NATS with JetStream: Debian's nats-server, started when none answers at the address. */

const START_TIMEOUT_MS = 30_000;

export interface LocalNats {
  url: string;
  started: boolean;
}

/** `maxPayload`: the largest message it takes (NATS's default is 1 MiB), for a server set up smaller than most. */
export async function ensureNats(dir: string, host: string, port: number, options: { maxPayload?: number } = {}): Promise<LocalNats> {
  const url = `nats://${host}:${port}`;
  if (await natsAnswers(url)) return { url, started: false };

  const store = join(dir, 'nats');
  mkdirSync(store, { recursive: true });
  const config: string[] = [];
  if (options.maxPayload !== undefined) {
    const file = join(dir, 'nats.conf');
    writeFileSync(file, `max_payload: ${options.maxPayload}\n`);
    config.push('-c', file);
  }
  const daemon = startDaemon(
    natsServerBinary(),
    [...config, '-a', host, '-p', String(port), '-js', '-sd', store],
    join(dir, 'nats.log'),
    pidFile(dir),
  );
  await waitUntilReady(`nats-server (${url})`, daemon, () => natsAnswers(url), START_TIMEOUT_MS);
  return { url, started: true };
}

export function stopNats(dir: string): Promise<boolean> {
  return stopDaemon(pidFile(dir), 15_000);
}

/** The pid of the nats-server a stack started, while it runs (the benchmarks read its CPU time). */
export function natsPid(dir: string): number | undefined {
  const pid = readPid(pidFile(dir));
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

function pidFile(dir: string): string {
  return join(dir, 'nats.pid');
}

/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
function natsServerBinary(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (existsSync(candidate)) return candidate;
  }
  return 'nats-server';
}
