import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { isAlive, PROJECT_ROOT, readPid, startDaemon, stopDaemon, waitUntilReady, type Daemon } from './process.ts';

/**
 * A local PuppetDB for `faultline import puppetdb` in development and the tests: Debian's `puppetdb` package
 * (7.x, a Clojure program in one jar) run as a plain background process, not as the system service. Its
 * configuration is rendered from `stack/puppetdb/` into `.faultline/<profile>/puppetdb/`, its log goes to
 * `.faultline/<profile>/puppetdb.log`, and its data to a PostgreSQL database of its own on the machine's
 * PostgreSQL (created here, with the `pg_trgm` extension PuppetDB needs), owned by a role without superuser
 * rights. HTTP only, on loopback.
 */

const TEMPLATES = join(PROJECT_ROOT, 'stack', 'puppetdb');
const CONFIG_FILES = ['config.ini', 'database.ini', 'jetty.ini', 'auth.conf'] as const;
/** First start: about 35 s (database migrations); later ones 15-25 s on two cores. */
const START_TIMEOUT_MS = 180_000;
const ROLE = 'faultline_puppetdb';
const MIN_POSTGRES = 110_000;

export interface PuppetdbOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Its PostgreSQL database (default `faultline_puppetdb_<profile>`, the profile being the folder's name). */
  database?: string;
}

export interface LocalPuppetdb {
  /** Base URL of its HTTP API, as `faultline import puppetdb` takes it. */
  url: string;
  /** False when a PuppetDB already answered at the address and was reused. */
  started: boolean;
}

/** Where PostgreSQL is and who may create databases there; the environment can say otherwise. */
function postgresSettings() {
  return {
    host: process.env.FAULTLINE_PUPPETDB_PGHOST ?? '127.0.0.1',
    port: Number(process.env.FAULTLINE_PUPPETDB_PGPORT ?? 5432),
    admin: process.env.FAULTLINE_PUPPETDB_PGADMIN ?? 'postgres',
  };
}

/**
 * Starts PuppetDB unless one already answers at http://host:port, and waits until its status service says
 * `running`. `dir` is the stack's folder (`.faultline/<profile>`).
 */
export async function ensurePuppetdb(dir: string, port: number, options: PuppetdbOptions = {}): Promise<LocalPuppetdb> {
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host}:${port}`;
  if (await puppetdbAnswers(url)) return { url, started: false };

  const logFile = join(dir, 'puppetdb.log');
  const pid = readPid(pidFile(dir));
  if (pid !== undefined && isAlive(pid)) {
    // Started earlier (by another test run, say) and still starting: wait for that one.
    await waitUntilReady(`PuppetDB (${url})`, { pid, logFile }, () => puppetdbAnswers(url), START_TIMEOUT_MS);
    return { url, started: false };
  }
  if (await portTaken(host, port)) {
    throw new Error(`PuppetDB: ${host}:${port} is in use by something that is not a running PuppetDB (its status endpoint does not answer); choose another port`);
  }

  const jar = puppetdbJar();
  const pg = postgresSettings();
  const database = options.database ?? `faultline_puppetdb_${basename(dir).toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`PuppetDB: "${database}" is not a plain PostgreSQL database name (a-z, 0-9, _)`);
  await ensureDatabase(pg, database);

  const home = join(dir, 'puppetdb');
  const confDir = join(home, 'conf.d');
  const vardir = join(home, 'var');
  mkdirSync(confDir, { recursive: true });
  mkdirSync(vardir, { recursive: true });
  const values: Record<string, string> = {
    vardir,
    logback: join(home, 'logback.xml'),
    pgHost: pg.host,
    pgPort: String(pg.port),
    database,
    user: ROLE,
    host,
    port: String(port),
  };
  for (const file of CONFIG_FILES) writeFileSync(join(confDir, file), render(file, values));
  writeFileSync(join(home, 'logback.xml'), render('logback.xml', values));
  writeFileSync(join(home, 'bootstrap.cfg'), render('bootstrap.cfg', values));

  const heap = process.env.FAULTLINE_PUPPETDB_HEAP ?? '256m';
  const daemon: Daemon = startDaemon(
    javaBinary(),
    [
      `-Xmx${heap}`,
      // The C1 compiler only: PuppetDB (Clojure) starts in about 15 s instead of 25; ample for a local one.
      '-XX:TieredStopAtLevel=1',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.security.egd=file:/dev/urandom',
      '-cp', jar,
      'clojure.main', '-m', 'puppetlabs.puppetdb.core', 'services',
      '--config', confDir,
      '--bootstrap-config', join(home, 'bootstrap.cfg'),
    ],
    logFile,
    pidFile(dir),
  );
  await waitUntilReady(`PuppetDB (${url})`, daemon, () => puppetdbAnswers(url), START_TIMEOUT_MS);
  return { url, started: true };
}

/** Stops the PuppetDB this folder's pid file names (SIGTERM: it shuts down cleanly). */
export function stopPuppetdb(dir: string): Promise<boolean> {
  return stopDaemon(pidFile(dir), 60_000);
}

/** True when PuppetDB's status service at `url` says it is running (not starting, not in maintenance). */
export async function puppetdbAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/status/v1/services/puppetdb-status`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return false;
    const status = (await response.json()) as { state?: string; status?: { 'maintenance_mode?'?: boolean } };
    return status.state === 'running' && status.status?.['maintenance_mode?'] !== true;
  } catch {
    return false;
  }
}

function pidFile(dir: string): string {
  return join(dir, 'puppetdb.pid');
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function puppetdbJar(): string {
  const jar = process.env.FAULTLINE_PUPPETDB_JAR ?? '/usr/share/puppetdb/puppetdb.jar';
  if (!existsSync(jar)) {
    throw new Error(`PuppetDB is not installed: ${jar} is missing (Debian: apt-get install puppetdb; or set FAULTLINE_PUPPETDB_JAR)`);
  }
  return jar;
}

function render(template: string, values: Record<string, string>): string {
  return readFileSync(join(TEMPLATES, template), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`stack/puppetdb/${template}: unknown placeholder {{${key}}}`);
    return value;
  });
}

function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

type Postgres = ReturnType<typeof postgresSettings>;

/** PuppetDB's database and role, created when missing (idempotent), with pg_trgm; PostgreSQL 11 or newer. */
async function ensureDatabase(pg: Postgres, database: string): Promise<void> {
  const version = Number(await psql(pg, 'postgres', 'SHOW server_version_num'));
  if (!(version >= MIN_POSTGRES)) {
    throw new Error(`PuppetDB needs PostgreSQL 11 or newer; ${pg.host}:${pg.port} runs version ${version} (server_version_num)`);
  }
  // Identifiers cannot be bound as parameters in DDL; the role is a constant and the database name is checked here.
  if (!/^[a-z0-9_]+$/.test(database)) throw new Error(`not a plain database name: ${JSON.stringify(database)}`);
  const exists = async (sql: string) => (await psql(pg, 'postgres', sql)) === '1';
  if (!(await exists(`SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'`))) { // -- safe: constant
    await psql(pg, 'postgres', `CREATE ROLE ${ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`); // -- safe: constant
  }
  if (!(await exists(`SELECT 1 FROM pg_database WHERE datname = '${database}'`))) { // -- safe: checked above
    await psql(pg, 'postgres', `CREATE DATABASE "${database}" OWNER ${ROLE} ENCODING 'UTF8' TEMPLATE template0`); // -- safe: checked above
  }
  // Only a superuser may create it; PuppetDB's migrations then use it as its owner.
  await psql(pg, database, 'CREATE EXTENSION IF NOT EXISTS pg_trgm');
}

async function psql(pg: Postgres, database: string, sql: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(
      'psql',
      ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-h', pg.host, '-p', String(pg.port), '-U', pg.admin, '-d', database, '-c', sql],
      { timeout: 30_000, env: { ...process.env, PGCONNECT_TIMEOUT: '5' } },
    );
    return stdout.trim();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('psql is not installed (Debian: apt-get install postgresql-client); it creates PuppetDB\'s database');
    const said = (e.stderr ?? e.message).trim().split('\n')[0] ?? '';
    if (/connection|could not connect|timeout expired|no such file/i.test(said)) {
      throw new Error(`PostgreSQL is not reachable at ${pg.host}:${pg.port} as ${pg.admin} (PuppetDB keeps its data there; Debian: apt-get install postgresql): ${said}`);
    }
    throw new Error(`PostgreSQL at ${pg.host}:${pg.port} (as ${pg.admin}, database ${database}) refused "${sql}": ${said}`);
  }
}
