/** Bearer-token authentication of the API. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <token>` against the server's token. Both sides are hashed
 * first so they compare in constant time whatever their lengths: the time taken says nothing
 * about how much of a guess was right.
 */
export function requireToken(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization;
  const given = header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  if (given !== undefined && timingSafeEqual(digest(given), digest(token))) return;
  throw new HttpError(
    401,
    'unauthorized',
    given === undefined
      ? 'this server needs a token: send Authorization: Bearer <token> (the token given to weft server with --token or WEFT_TOKEN)'
      : 'the bearer token is not this server’s token',
    { headers: { 'www-authenticate': 'Bearer realm="weft"' } },
  );
}
