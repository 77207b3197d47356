/**
 * Identifiers: time-sortable, URL-safe, prefixed by what they name (`run_…`, `wkr_…`).
 * Sorting ids as strings sorts them by creation time, which cursor pagination relies on.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

let lastTime = 0;
let sequence = 0;

/** A new id such as `run_01hx3k9v2c8a7m4q5r6s`: 10 chars of time, 2 of sequence, 8 random. */
export function newId(prefix: string, now: number = Date.now()): string {
  if (now === lastTime) sequence = (sequence + 1) % 1024;
  else {
    lastTime = now;
    sequence = 0;
  }
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const seq = ALPHABET[sequence >> 5]! + ALPHABET[sequence & 31]!;
  let rand = '';
  for (let i = 0; i < 8; i++) rand += ALPHABET[randomByte() & 31]!;
  return `${prefix}_${time}${seq}${rand}`;
}

/** Random bytes drawn a pool at a time: one call to the system per 512 ids, not per id. */
const pool = new Uint8Array(4096);
let used = pool.length;
function randomByte(): number {
  if (used === pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  return pool[used++]!;
}
