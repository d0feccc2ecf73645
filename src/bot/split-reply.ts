/** Webex refuses a message whose text is longer than this. */
export const WEBEX_MAX_CHARS = 7439;

/**
 * Splits long markdown at line boundaries into pieces Webex accepts (a single line longer than that
 * is cut where it must be). Past `maxParts` the rest is dropped and the last piece says so: a reply
 * of dozens of messages helps nobody.
 */
export function splitReply(markdown: string, maxChars = WEBEX_MAX_CHARS, maxParts = 4): string[] {
  if (markdown.length <= maxChars) return [markdown];
  const parts: string[] = [];
  let current = '';
  for (const line of markdown.split('\n').flatMap((l) => chunks(l, maxChars))) {
    if (current && current.length + 1 + line.length > maxChars) {
      parts.push(current);
      current = line;
    } else current = current ? `${current}\n${line}` : line;
  }
  if (current) parts.push(current);
  if (parts.length <= maxParts) return parts;
  const kept = parts.slice(0, maxParts);
  const lost = parts.slice(maxParts).join('\n').split('\n').length;
  const note = `\n\n_(cut: ${lost} more lines not shown)_`;
  const last = kept[maxParts - 1]!;
  kept[maxParts - 1] = last.slice(0, maxChars - note.length) + note;
  return kept;
}

function chunks(line: string, size: number): string[] {
  if (line.length <= size) return [line];
  const out: string[] = [];
  for (let i = 0; i < line.length; i += size) out.push(line.slice(i, i + size));
  return out;
}
