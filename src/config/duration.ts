const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Parses "30s", "5m", "1h30m", "250ms" into milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (!match || match.index !== start) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  return total;
}

/** A duration as an operator writes it, to the minute: "4h", "1h30m", "2d3h"; under a minute, "45s". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.floor(ms / 1_000))}s`;
  let minutes = Math.floor(ms / 60_000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 1_440], ['h', 60], ['m', 1]] as const) {
    if (minutes >= size) {
      parts.push(`${Math.floor(minutes / size)}${unit}`);
      minutes %= size;
    }
  }
  return parts.join('');
}
