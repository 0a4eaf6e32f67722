import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';

export interface ArchiveEntry {
  name: string;
  text: string;
}

/** The catalog files of a `puppet db export` archive (`puppetdb-bak/catalogs/<certname>.json`), in order. */
export async function catalogsInArchive(gzipped: Buffer): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      const wanted = header.type === 'file' && /(^|\/)catalogs\/[^/]+\.json$/.test(header.name);
      stream.on('data', (chunk: unknown) => {
        if (wanted) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        if (wanted) entries.push({ name: header.name, text: Buffer.concat(chunks).toString('utf8') });
        next();
      });
      stream.on('error', reject);
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  const gunzip = createGunzip();
  gunzip.on('error', (err) => tar.destroy(err));
  Readable.from([gzipped]).pipe(gunzip).pipe(tar);
  await done;
  return entries;
}
