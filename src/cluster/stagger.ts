/**
 * Spreads the work: every instance ranks itself for each activity id (a hash of the id picks who is
 * first among the instances alive) and waits rank x step before claiming. The first in line claims at
 * once and normally wins; if it is gone, the next one is only one step late. Without it, whichever
 * instance Webex happens to reach first would answer nearly everything.
 */
export function staggerMs(id: string, self: string, peers: string[], stepMs: number): number {
  if (peers.length === 0 || stepMs <= 0) return 0;
  const all = [self, ...peers].sort();
  const first = fnv1a(id) % all.length;
  return ((all.indexOf(self) - first + all.length) % all.length) * stepMs;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
