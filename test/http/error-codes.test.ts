import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { JOBWIRE_ERROR_CODES, JobwireError, type JobwireErrorCode } from '../../src/index.js';
import { errorResponse, HTTP_ONLY_ERROR_CODES, HTTP_STATUS_BY_CODE, type HttpErrorBody, type HttpOnlyErrorCode } from '../../src/http/index.js';

const root = resolve(import.meta.dirname, '../..');

/** The rows of the first markdown table after `heading`: cells, without the header and rule rows. */
async function tableAfter(file: string, heading: string): Promise<string[][]> {
  const text = await readFile(resolve(root, file), 'utf8');
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`no "${heading}" in ${file}`);
  const lines = text.slice(at).split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

const codesIn = (cell: string): string[] => [...cell.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!);

describe('every error code the HTTP layer answers with is documented', () => {
  it('docs/http.md lists each code with its status', async () => {
    const documented = new Map<string, Set<number>>();
    for (const [status, codes] of await tableAfter('docs/http.md', '## Errors')) {
      for (const code of codesIn(codes!)) documented.set(code, (documented.get(code) ?? new Set()).add(Number(status)));
    }
    for (const [code, status] of Object.entries(HTTP_STATUS_BY_CODE)) expect(documented.get(code), code).toContain(status);
    expect(documented.get('INTERNAL')).toContain(500);
    expect(documented.get('NOT_FOUND')).toContain(404);
    // Nothing documented that the code base does not know.
    for (const code of documented.keys()) expect([...JOBWIRE_ERROR_CODES, ...HTTP_ONLY_ERROR_CODES], code).toContain(code);
  });

  it('docs/errors.md lists every JobwireErrorCode, and the HTTP-only codes with their status', async () => {
    const codes = (await tableAfter('docs/errors.md', 'package. `JOBWIRE_ERROR_CODES` lists every code.')).flatMap(([code]) => codesIn(code!));
    expect(codes).toEqual([...JOBWIRE_ERROR_CODES]);
    const httpOnly = await tableAfter('docs/errors.md', '## Codes only the HTTP layer answers with');
    expect(httpOnly.map(([code, status]) => [codesIn(code!)[0], Number(status)])).toEqual([
      ['INTERNAL', 500],
      ['NOT_FOUND', 404],
    ]);
  });

  it('the HTTP-only codes are exactly the ones no JobwireError carries', async () => {
    expect([...HTTP_ONLY_ERROR_CODES]).toEqual(['INTERNAL', 'NOT_FOUND']);
    for (const code of HTTP_ONLY_ERROR_CODES) expect(JOBWIRE_ERROR_CODES).not.toContain(code);
    expectTypeOf<HttpErrorBody['error']['code']>().toEqualTypeOf<JobwireErrorCode | HttpOnlyErrorCode>();
    const internal = errorResponse(new Error('secret'));
    expect(internal.status).toBe(500);
    expect(await internal.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error' } });
    const result = errorResponse(new JobwireError('RESULT_NOT_FOUND', 'no result', { details: { status: 'running' } }));
    expect(result.status).toBe(404);
    expect(await result.json()).toEqual({ error: { code: 'RESULT_NOT_FOUND', message: 'no result', details: { status: 'running' } } });
  });
});
