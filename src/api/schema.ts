import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSchema } from 'graphql-yoga';
import { PROJECT_ROOT } from '../stack/process.ts';
import type { ApiContext } from './context.ts';
import { correlationResolvers } from './correlation/resolvers.ts';
import type { Resolvers } from './generated/resolvers.ts';
import { health } from './health/resolvers.ts';
import { topologyResolvers } from './topology/resolvers.ts';

const SDL_DIR = join(PROJECT_ROOT, 'schema');

/** The SDL files, in name order: the same files graphql-codegen reads. */
export function loadTypeDefs(): string[] {
  return readdirSync(SDL_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(join(SDL_DIR, f), 'utf8'));
}

const resolvers: Resolvers = {
  ...topologyResolvers,
  ...correlationResolvers,
  Query: { health, ...topologyResolvers.Query, ...correlationResolvers.Query },
};

export function buildSchema() {
  return createSchema<ApiContext>({ typeDefs: loadTypeDefs(), resolvers });
}
