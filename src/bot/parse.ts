/** `ping`, `toodles ping`, `Toodles ping` (a group mention renders the display name first). */
export function parseCommand(text: string, displayName: string): { name: string; args: string } {
  let rest = text.trim();
  for (const prefix of new Set([displayName, displayName.split(/\s+/)[0] ?? '', 'toodles'])) {
    if (prefix && rest.toLowerCase().startsWith(prefix.toLowerCase())) {
      const after = rest.slice(prefix.length);
      if (after === '' || /^[\s,:]/.test(after)) {
        rest = after.replace(/^[\s,:]+/, '');
        break;
      }
    }
  }
  const word = rest.split(/\s/, 1)[0] ?? '';
  return { name: word.toLowerCase(), args: rest.slice(word.length).trim() };
}

/**
 * A card submit's `callback` (written by submitData): the command's keyword, and the action name
 * unless the button is the form's own submit.
 */
export function parseCallback(inputs: Record<string, unknown>): { keyword: string; actionName: string | undefined } {
  const callback = typeof inputs.callback === 'string' ? inputs.callback : '';
  const [keyword = '', actionName] = callback.split(/\.(.*)/s);
  return { keyword, actionName };
}
