import type { HostGraph } from '../../src/graph/model.ts';
import type { InputFile } from '../files.ts';
import { parseJson } from '../json.ts';
import type { InputProblem } from '../problems.ts';
import type { FileReading, Source } from '../source.ts';
import { catalogsInArchive } from './archive.ts';
import { catalogsIn } from './envelope.ts';
import { transformCatalog } from './transform.ts';

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * `faultline import puppet`: catalog files in any of the formats of envelope.ts, or `puppet db export`
 * archives (.tar.gz). A file that fails to parse is rejected whole: none of its hosts is touched.
 */
export const puppetSource: Source = {
  name: 'puppet',
  extensions: ['.json', '.pson', '.tar.gz', '.tgz'],
  async read(file: InputFile): Promise<FileReading> {
    const bytes = file.read();
    if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
      let entries;
      try {
        entries = await catalogsInArchive(bytes);
      } catch (err) {
        return rejected({ file: file.name, path: '$', message: `not a readable .tar.gz archive: ${(err as Error).message}` });
      }
      if (entries.length === 0) return rejected({ file: file.name, path: '$', message: 'the archive has no catalogs/<certname>.json (is it a `puppet db export` archive?)' });
      const readings = entries.map((entry) => readText(entry.text, `${file.name}!${entry.name}`));
      return {
        hosts: readings.flatMap((r) => r.hosts),
        problems: readings.flatMap((r) => r.problems),
        warnings: readings.flatMap((r) => r.warnings),
      };
    }
    return readText(bytes.toString('utf8'), file.name);
  },
};

function readText(text: string, name: string): FileReading {
  const json = parseJson(text, name);
  if (!json.ok) return rejected(json.problem);
  const { catalogs, problems } = catalogsIn(json.value, name);
  if (problems.length > 0) return { hosts: [], problems, warnings: [] };
  const warnings: InputProblem[] = [];
  const hosts: HostGraph[] = catalogs.map((catalog) =>
    transformCatalog(catalog, (path, message) => warnings.push({ file: name, path, message })),
  );
  return { hosts, problems: [], warnings };
}

function rejected(problem: InputProblem): FileReading {
  return { hosts: [], problems: [problem], warnings: [] };
}
