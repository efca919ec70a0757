import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { JobwireError } from '../errors.js';

/** A file the dashboard serves from memory: its text, a version from its content, and an `ETag`. */
export interface Asset {
  body: string;
  contentType: string;
  /** A short hash of `body`: the `?v=` the page puts on the asset's URL, so a new build is a new URL. */
  version: string;
  etag: string;
}

/** An asset of `body`, versioned by its content. */
export function assetOf(body: string, contentType: string): Asset {
  const version = createHash('sha256').update(body).digest('base64url').slice(0, 16);
  return { body, contentType, version, etag: `"${version}"` };
}

/**
 * Where the page script may be, relative to this module: beside it in `dist/dashboard/` (the
 * dashboard's entry), one folder down when the bundler moved this code into a shared chunk at
 * `dist/`, and the build's own place when this module runs from the sources (tests, `tsx`).
 */
const SCRIPT_CANDIDATES = ['./app.js', './dashboard/app.js', '../../dist/dashboard/app.js'];

let pageScript: Promise<Asset> | undefined;

/**
 * The page script built by `npm run build` (`dist/dashboard/app.js`), read once per process.
 * @throws `UNAVAILABLE` when it is not found: the package was not built (a later call looks again).
 */
export function loadPageScript(): Promise<Asset> {
  pageScript ??= readPageScript().catch((error: unknown) => {
    pageScript = undefined;
    throw error;
  });
  return pageScript;
}

async function readPageScript(): Promise<Asset> {
  for (const candidate of SCRIPT_CANDIDATES) {
    let body: string;
    try {
      body = await readFile(new URL(candidate, import.meta.url), 'utf8');
    } catch {
      continue; // not at this place: try the next
    }
    return assetOf(body, 'text/javascript; charset=utf-8');
  }
  throw new JobwireError('UNAVAILABLE', 'The dashboard page script (dashboard/app.js) is missing: build the package first');
}

/** Headers of a served asset: cached for good when asked for by its current version, else revalidated. */
export function assetResponse(asset: Asset, request: Request, url: URL): Response {
  const immutable = url.searchParams.get('v') === asset.version;
  const headers: Record<string, string> = {
    'Content-Type': asset.contentType,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ETag: asset.etag,
    'X-Content-Type-Options': 'nosniff',
  };
  const seen = request.headers.get('if-none-match');
  if (seen !== null && seen.split(',').some((tag) => tag.trim().replace(/^W\//, '') === asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === 'HEAD' ? null : asset.body, { status: 200, headers });
}
