/**
 * A strict little XML 1.0 reader for the tests: enough to prove a JUnit report is well-formed (one root, tags
 * balanced and properly nested, attributes quoted and unique, only the five predefined entities and character
 * references, no character XML forbids) and to read it back as a tree. Throws with the offset on anything else.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data, entities decoded. */
  text: string;
}

const NAME = /^[A-Za-z_:][\w.:-]*/;
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (message: string): never => {
    throw new Error(`not well-formed XML at offset ${i}: ${message} (near ${JSON.stringify(source.slice(i, i + 40))})`);
  };
  if (FORBIDDEN.test(source)) fail('a character XML 1.0 does not allow');

  const decode = (raw: string, inAttribute: boolean): string => {
    if (inAttribute && raw.includes('<')) fail('"<" in an attribute value');
    return raw.replace(/&([^;]*);|&/g, (match, entity: string | undefined) => {
      if (entity === undefined) return fail('a bare "&"');
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (named[entity] !== undefined) return named[entity]!;
      const numeric = /^#(?:x([0-9A-Fa-f]+)|(\d+))$/.exec(entity);
      if (!numeric) return fail(`an unknown entity &${entity};`);
      return String.fromCodePoint(numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2]));
    });
  };
  const skipSpace = () => {
    while (i < source.length && /\s/.test(source[i]!)) i++;
  };
  const name = (): string => {
    const match = NAME.exec(source.slice(i));
    if (!match) return fail('expected a name');
    i += match[0].length;
    return match[0];
  };

  if (source.startsWith('<?xml')) {
    const end = source.indexOf('?>');
    if (end < 0) fail('an unterminated XML declaration');
    i = end + 2;
  }
  const misc = () => {
    for (;;) {
      skipSpace();
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i + 4);
        if (end < 0) fail('an unterminated comment');
        i = end + 3;
      } else return;
    }
  };

  const element = (): XmlElement => {
    if (source[i] !== '<') fail('expected "<"');
    i++;
    const el: XmlElement = { name: name(), attributes: {}, children: [], text: '' };
    for (;;) {
      const before = i;
      skipSpace();
      if (source.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (source[i] === '>') {
        i++;
        break;
      }
      if (i === before) fail('expected white space before an attribute');
      const attribute = name();
      skipSpace();
      if (source[i] !== '=') fail('expected "=" after an attribute name');
      i++;
      skipSpace();
      const quote = source[i];
      if (quote !== '"' && quote !== "'") return fail('an unquoted attribute value');
      const end = source.indexOf(quote, i + 1);
      if (end < 0) fail('an unterminated attribute value');
      if (Object.hasOwn(el.attributes, attribute)) fail(`attribute ${attribute} given twice`);
      el.attributes[attribute] = decode(source.slice(i + 1, end), true);
      i = end + 1;
    }
    for (;;) {
      const next = source.indexOf('<', i);
      if (next < 0) fail(`element <${el.name}> is not closed`);
      const raw = source.slice(i, next);
      if (raw.includes(']]>')) fail('"]]>" in character data');
      el.text += decode(raw, false);
      i = next;
      if (source.startsWith('</', i)) {
        i += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        skipSpace();
        if (source[i] !== '>') fail('expected ">"');
        i++;
        return el;
      }
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i + 4);
        if (end < 0) fail('an unterminated comment');
        i = end + 3;
        continue;
      }
      el.children.push(element());
    }
  };

  misc();
  const root = element();
  misc();
  if (i !== source.length) fail('content after the root element');
  return root;
}

/** Every element named `name` in the tree, depth first. */
export function elements(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (el: XmlElement) => {
    if (el.name === name) found.push(el);
    el.children.forEach(walk);
  };
  walk(root);
  return found;
}
