/**
 * Serves the built web UI (`dist/ui`, made by `npm run build`) next to the API: files as they
 * are, and `index.html` for any other path without a file extension, so the UI's own routes
 * (`/runs/run_…`) load the app. The UI's files are public; what it shows comes from the API,
 * which asks for the token.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Where `npm run build` puts the UI: two levels up from src/server (and dist/server). */
export function defaultUiDir(): string {
  return fileURLToPath(new URL('../../dist/ui/', import.meta.url));
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Weft</title>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Weft</h1>
<p>The web UI is not built in this copy of Weft. Run <code>npm run build</code> in its folder,
then reload. The API is served under <a href="/api/health">/api</a>.</p>
</body>`;

async function fileAt(root: string, pathname: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const full = normalize(join(root, decoded));
  // Nothing outside the UI's folder, whatever `..` the path holds.
  if (full !== root.replace(/[\\/]+$/, '') && !full.startsWith(root.replace(/[\\/]*$/, sep))) {
    return null;
  }
  try {
    return (await stat(full)).isFile() ? full : null;
  } catch {
    return null;
  }
}

/**
 * Answers a GET or HEAD outside `/api` from `root`. Returns false when nothing there answers it
 * (a path with an extension and no such file), for the caller's 404.
 */
export async function serveUi(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<boolean> {
  const head = req.method === 'HEAD';
  let file = pathname === '/' ? null : await fileAt(root, pathname);
  if (!file) {
    if (extname(pathname) !== '') return false;
    file = await fileAt(root, '/index.html');
    if (!file) {
      res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-store' });
      res.end(head ? undefined : NOT_BUILT);
      return true;
    }
  }
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  // Vite names built assets by their content's hash: they never change under one name.
  const immutable = pathname.startsWith('/assets/');
  const headers = {
    'content-type': type,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  if (extname(file) === '.html') {
    const html = await readFile(file);
    res.writeHead(200, { ...headers, 'content-length': html.length });
    res.end(head ? undefined : html);
    return true;
  }
  const { size } = await stat(file);
  res.writeHead(200, { ...headers, 'content-length': size });
  if (head) {
    res.end();
    return true;
  }
  await new Promise<void>((resolve, reject) => {
    createReadStream(file).on('error', reject).on('end', resolve).pipe(res);
  });
  return true;
}
