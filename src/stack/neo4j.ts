import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { neo4jAnswers } from '../graph/neo4j.ts';
import { PROJECT_ROOT, startDaemon, stopDaemon, waitUntilReady } from './process.ts';

/**
 * The local Neo4j: 5.26 LTS Community, embedded in a tiny Java launcher (`stack/neo4j/`), its jars fetched
 * from Maven Central. Used by `faultline dev` and the tests when no Neo4j is configured.
 */

const LAUNCHER_DIR = join(PROJECT_ROOT, 'stack', 'neo4j');
const POM = join(LAUNCHER_DIR, 'pom.xml');
const LAUNCHER = join(LAUNCHER_DIR, 'Neo4jLauncher.java');
const START_TIMEOUT_MS = 180_000;

export interface LocalNeo4j {
  uri: string;
  /** False when a Neo4j already answered at the address and was reused. */
  started: boolean;
}

export async function ensureNeo4j(dir: string, host: string, port: number): Promise<LocalNeo4j> {
  const uri = `bolt://${host}:${port}`;
  if (await neo4jAnswers(uri)) return { uri, started: false };

  mkdirSync(dir, { recursive: true });
  const argFile = await javaArgFile(dir);
  const heap = process.env.FAULTLINE_NEO4J_HEAP ?? '2g';
  // Neo4j wants the whole store in its page cache; the bench store of a 1000-host import reached 1.3 GB on disk,
  // past the 512 MB this used to be. Memory is taken as pages are used, not up front.
  const pageCache = mebibytes('FAULTLINE_NEO4J_PAGECACHE', process.env.FAULTLINE_NEO4J_PAGECACHE ?? '2g');
  const daemon = startDaemon(
    javaBinary(),
    [`-Xmx${heap}`, '-XX:+UseG1GC', `@${argFile}`, LAUNCHER, join(dir, 'neo4j'), host, String(port), String(pageCache)],
    join(dir, 'neo4j.log'),
    pidFile(dir),
  );
  await waitUntilReady(`Neo4j (${uri})`, daemon, () => neo4jAnswers(uri), START_TIMEOUT_MS);
  return { uri, started: true };
}

export function stopNeo4j(dir: string): Promise<boolean> {
  return stopDaemon(pidFile(dir));
}

function pidFile(dir: string): string {
  return join(dir, 'neo4j.pid');
}

/** `512m`, `2g`, `1048576k` → MiB; anything else is a clear error naming the variable. */
function mebibytes(name: string, text: string): number {
  const match = /^(\d+)([kmg])$/i.exec(text.trim());
  const size = match ? Number(match[1]) * { k: 1 / 1024, m: 1, g: 1024 }[match[2]!.toLowerCase() as 'k' | 'm' | 'g'] : NaN;
  if (!Number.isFinite(size) || size < 8) throw new Error(`${name}: expected a size such as 512m or 2g (at least 8m), got "${text}"`);
  return Math.floor(size);
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/**
 * The launcher's classpath, resolved by Maven once and cached in a java @argfile; resolved again when the
 * pom changes. The first run downloads Neo4j's jars into ~/.m2.
 */
async function javaArgFile(dir: string): Promise<string> {
  const classpathFile = join(dir, 'neo4j.classpath');
  const argFile = join(dir, 'neo4j.args');
  const fresh = existsSync(argFile) && existsSync(classpathFile) && statSync(classpathFile).mtimeMs >= statSync(POM).mtimeMs;
  if (!fresh) {
    try {
      await promisify(execFile)(
        'mvn',
        ['-q', '-B', '-f', POM, 'dependency:build-classpath', `-Dmdep.outputFile=${classpathFile}`],
        { cwd: LAUNCHER_DIR, maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') throw new Error('Maven (mvn) is not installed; it fetches the local Neo4j (or set NEO4J_URI)');
      const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
      throw new Error(`Maven could not fetch Neo4j (${POM}):\n${output}`);
    }
    const classpath = readFileSync(classpathFile, 'utf8').trim();
    writeFileSync(argFile, `-cp "${classpath.replaceAll('\\', '\\\\')}"\n`);
  }
  return argFile;
}
