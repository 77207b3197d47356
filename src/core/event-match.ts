/**
 * Whether an event payload satisfies a wait's `match`: every field of `match` (a dotted path
 * such as `order.id` reaches into the payload) must equal the payload's value, compared as
 * JSON. Shared by the engine and every store, so all agree on which events a wait receives.
 */
export function matchesPayload(match: Record<string, unknown> | null, payload: unknown): boolean {
  if (!match) return true;
  for (const [path, expected] of Object.entries(match)) {
    let value: unknown = payload;
    for (const part of path.split('.')) {
      if (value === null || typeof value !== 'object') {
        value = undefined;
        break;
      }
      value = (value as Record<string, unknown>)[part];
    }
    if (!jsonEqual(value, expected)) return false;
  }
  return true;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
