import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** The checkout this module runs from (the stack's Maven project and data folders hang off it). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where a local stack keeps its data, logs and pid files: `.faultline/<profile>/`, git-ignored. */
export function stackDir(profile: string): string {
  return join(PROJECT_ROOT, '.faultline', profile);
}

export interface Daemon {
  pid: number;
  logFile: string;
}

/**
 * Starts a long-running server detached from this process (it outlives `faultline stack up` and a test run),
 * with its output in `logFile` and its pid in `pidFile`.
 */
export function startDaemon(command: string, args: string[], logFile: string, pidFile: string): Daemon {
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], cwd: PROJECT_ROOT });
    child.on('error', () => undefined); // reported below: a missing binary leaves no pid
    if (child.pid === undefined) throw new Error(`could not start ${command}: is it installed and on PATH?`);
    child.unref();
    writeFileSync(pidFile, String(child.pid));
    return { pid: child.pid, logFile };
  } finally {
    closeSync(out);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Polls `probe` until it resolves true; fails early when the daemon has died (quoting the end of its log)
 * and after `timeoutMs`. Readiness is observed, never assumed after a fixed sleep.
 */
export async function waitUntilReady(
  what: string,
  daemon: Daemon,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    if (!isAlive(daemon.pid)) {
      throw new Error(`${what} exited during start-up; last lines of ${daemon.logFile}:\n${tail(daemon.logFile, 15)}`);
    }
    await sleep(200);
  }
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s; see ${daemon.logFile}`);
}

/** SIGTERM, wait for a clean exit, SIGKILL as a last resort. Returns whether a process was running. */
export async function stopDaemon(pidFile: string, graceMs = 60_000): Promise<boolean> {
  const pid = readPid(pidFile);
  if (pid === undefined || !isAlive(pid)) {
    rmSync(pidFile, { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(pidFile, { force: true });
  return true;
}

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
