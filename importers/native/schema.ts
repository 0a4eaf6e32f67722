import { z } from 'zod';

/**
 * The native topology format, for shops without Puppet: the vocabulary of the faultline Puppet module, in
 * YAML or JSON. examples/estate.yaml is a complete example; docs/native-format.md describes every key.
 */

const kind = z.enum(['hard', 'soft']);
const ref = z.string().min(1);
const name = z.string().min(1).regex(/^[^\s]+$/, { error: 'must not contain spaces' });

const dependsEntry = z.strictObject({ from: ref.optional(), on: ref, kind: kind.default('hard') });

const resource = z.strictObject({
  require: z.array(ref).default([]),
  owner: name.optional(),
  critical: z.boolean().optional(),
});

const host = z.strictObject({
  owner: name.optional(),
  critical: z.boolean().optional(),
  facts: z
    .strictObject({
      environment: z.string().optional(),
      location: z.string().optional(),
      rack: z.string().optional(),
      az: z.string().optional(),
      os: z.string().optional(),
      classes: z.array(z.string()).optional(),
    })
    .default({}),
  resources: z.record(ref, resource.nullable().transform((r) => r ?? { require: [] })).default({}),
  depends: z.array(dependsEntry).default([]),
  /** capability → the resource that provides it (null: the host itself). */
  provides: z.record(name, ref.nullable()).default({}),
  consumes: z.record(name, z.strictObject({ from: ref.optional(), kind: kind.default('hard') }).nullable()).default({}),
  member: z.record(name, z.strictObject({ resource: ref.optional(), minHealthy: z.number().int().positive().optional() }).nullable()).default({}),
  /** check name → the resource it watches (null: the host itself). */
  checks: z.record(name, ref.nullable()).default({}),
  services: z
    .record(
      name,
      z.strictObject({ tier: z.number().int().min(0).optional(), owner: name.optional(), resource: ref.optional(), minHealthy: z.number().int().positive().optional() }).nullable(),
    )
    .default({}),
});

export const nativeTopology = z.strictObject({
  teams: z.record(name, z.strictObject({ contacts: z.array(z.string().min(1)).default([]) }).nullable()).default({}),
  services: z
    .record(
      name,
      z.strictObject({
        tier: z.number().int().min(0).optional(),
        owner: name.optional(),
        critical: z.boolean().optional(),
        dependsOn: z.array(z.union([ref, z.strictObject({ on: ref, kind: kind.default('hard') })])).default([]),
      }).nullable(),
    )
    .default({}),
  groups: z
    .record(name, z.strictObject({ minHealthy: z.number().int().positive().default(1), members: z.array(ref).default([]) }))
    .default({}),
  hosts: z.record(name, host.nullable()).default({}),
  dependencies: z.array(z.strictObject({ from: ref, on: ref, kind: kind.default('hard') })).default([]),
});

export type NativeTopology = z.infer<typeof nativeTopology>;
