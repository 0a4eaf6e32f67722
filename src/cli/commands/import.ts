import { sourcesFor } from '../../../importers/index.ts';
import { runImport, summaryLine, type ImportOptions } from '../../../importers/run.ts';
import type { RemoteSource, Source } from '../../../importers/source.ts';
import { connectNats, type NatsConnection } from '../../bus/nats.ts';
import { connectNeo4j } from '../../graph/neo4j.ts';
import { loadRuntime, positiveInteger, UsageError, type GlobalOptions } from '../runtime.ts';

export type ImportCommandOptions = Omit<ImportOptions, 'concurrency'> & { concurrency?: string };

export async function importCommand(sourceName: string, paths: string[], flags: ImportCommandOptions, global: GlobalOptions): Promise<void> {
  const { concurrency, ...rest } = flags;
  const options: ImportOptions = { ...rest, ...(concurrency === undefined ? {} : { concurrency: positiveInteger('--concurrency', concurrency) }) };
  const { loaded, log } = loadRuntime(global);
  const { config } = loaded;
  const sources: Record<string, Source | RemoteSource> = sourcesFor(config);
  const source = Object.hasOwn(sources, sourceName) ? sources[sourceName] : undefined;
  if (!source) throw new UsageError(`unknown source "${sourceName}" (expected one of ${Object.keys(sources).join(', ')})`);

  if (options.dryRun) {
    const summary = await runImport(source, paths, options, log);
    process.stdout.write(`${summaryLine(summary, true)}\n`);
    if (summary.failedFiles > 0) process.exitCode = 1;
    return;
  }

  const neo4j = await connectNeo4j(config.neo4j);
  let nats: NatsConnection | undefined;
  try {
    nats = await connectNats(config.nats.url, 'faultline-import');
  } catch (err) {
    log.warn((err as Error).message);
  }
  try {
    const summary = await runImport(source, paths, options, log, { neo4j, settings: config.neo4j, ...(nats ? { nats } : {}) });
    process.stdout.write(`${summaryLine(summary, false)}\n`);
    if (summary.failedFiles > 0 || summary.failedHosts > 0) process.exitCode = 1;
  } finally {
    await nats?.drain();
    await neo4j.close();
  }
}
