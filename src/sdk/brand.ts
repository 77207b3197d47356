/**
 * Brands that mark what the SDK makes (pipelines, workflows, schedules, event triggers), by a
 * registered symbol: a value made by another copy of the package is still recognised.
 */

/** Whether `value` carries the brand `symbol`. */
export function hasBrand(value: unknown, symbol: symbol): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[symbol] === true
  );
}

/** Marks `value` with the brand `symbol` (not enumerable) and freezes it. */
export function brand<T extends object>(value: T, symbol: symbol): Readonly<T> {
  Object.defineProperty(value, symbol, { value: true });
  return Object.freeze(value);
}
