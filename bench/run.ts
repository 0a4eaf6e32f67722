/**
 * `npm run bench -- NAME [--flag value]...`: runs one benchmark; its last output line is one JSON object.
 * Benchmarks use NEO4J_URI / NATS_URL when set, else the `bench` stack (ports 7689/4224), whose data they wipe.
 */
const benches: Record<string, () => Promise<{ run(args: Record<string, string>): Promise<Record<string, unknown>> }>> = {
  import: () => import('./import.ts'),
  engine: () => import('./engine.ts'),
  correlator: () => import('./correlator.ts'),
  outage: () => import('./outage.ts'),
  planner: () => import('./planner.ts'),
};

const [name, ...rest] = process.argv.slice(2);
const args: Record<string, string> = {};
for (let i = 0; i < rest.length; i++) {
  const flag = rest[i]!;
  if (!flag.startsWith('--')) throw new Error(`unexpected argument ${flag}`);
  const next = rest[i + 1];
  if (next === undefined || next.startsWith('--')) args[flag.slice(2)] = 'true';
  else args[flag.slice(2)] = rest[++i]!;
}
const bench = name ? benches[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -- ${Object.keys(benches).join('|')} [--flag value]...\n`);
  process.exit(2);
}
const result = await (await bench()).run(args);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
