/**
 * Entity ids (design section 3, a contract): hosts by certname, resources as `<certname>::<Type>[<title>]` with
 * the Puppet type capitalised per segment and the title verbatim, `service:<name>`, `group:<name>`, `team:<name>`.
 */

export const serviceId = (name: string) => `service:${name}`;
export const groupId = (name: string) => `group:${name}`;
export const capabilityGroupId = (capability: string) => `group:capability:${capability}`;
export const teamId = (name: string) => (name.startsWith('team:') ? name : `team:${name}`);

/** `faultline::depends` → `Faultline::Depends`; `class` → `Class`. */
export function normaliseType(type: string): string {
  return type
    .split('::')
    .map((segment) => (segment.length === 0 ? segment : segment[0]!.toUpperCase() + segment.slice(1).toLowerCase()))
    .join('::');
}

export interface ResourceRef {
  type: string;
  title: string;
}

const REF = /^\s*([A-Za-z][\w-]*(?:::[A-Za-z][\w-]*)*)\s*\[\s*(?:'([^']*)'|"([^"]*)"|(.*?))\s*\]\s*$/s;

/** Parses `Service[mysqld]`, `file['/etc/x']`, `Faultline::Depends[a b]`; undefined for anything else. */
export function parseRef(text: string): ResourceRef | undefined {
  const match = REF.exec(text);
  if (!match) return undefined;
  const title = match[2] ?? match[3] ?? match[4] ?? '';
  return { type: normaliseType(match[1]!), title };
}

export const refText = (ref: ResourceRef) => `${ref.type}[${ref.title}]`;

export function resourceId(certname: string, ref: ResourceRef): string {
  return `${certname}::${refText(ref)}`;
}

/**
 * Resolves a reference written on host `certname` to an entity id:
 * - `service:x`, `group:x` are ids already;
 * - `db1.example.com::Service[mysqld]` is a resource of another host: certnames never contain `::`, and the part
 *   before the first `::` is taken as a certname when it has a dot (FQDN certnames), as a type otherwise;
 * - `Service[x]`, `Apache::Vhost[x]` are resources of this host;
 * - anything else without brackets is a certname.
 */
export function resolveEntityRef(text: string, certname: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^(service|group):./.test(trimmed)) return trimmed;
  const split = trimmed.indexOf('::');
  if (split > 0 && trimmed.slice(0, split).includes('.')) {
    const remote = parseRef(trimmed.slice(split + 2));
    return remote ? resourceId(trimmed.slice(0, split), remote) : undefined;
  }
  const local = parseRef(trimmed);
  if (local) return resourceId(certname, local);
  return /[[\]\s]/.test(trimmed) ? undefined : trimmed;
}
