/** The chunks of the live-output benchmark: small tokens, as an LLM call or a transcriber writes them. */

/** The `index`th chunk: `tok0 ` … `tok999 `, then again (7 to 9 bytes of JSON each). */
export const tokenOf = (index: number): string => `tok${index % 1_000} `;

/** The text the chunks make, in order: what every reader must reconstruct byte for byte. */
export function expectedText(chunks: number): string {
  const parts: string[] = new Array(chunks);
  for (let i = 0; i < chunks; i++) parts[i] = tokenOf(i);
  return parts.join('');
}

/** Where two texts first differ, with a little of each around it (for a failure message). */
export function firstDifference(expected: string, got: string): string {
  let at = 0;
  while (at < expected.length && at < got.length && expected.charCodeAt(at) === got.charCodeAt(at)) at++;
  const around = (text: string): string => JSON.stringify(text.slice(Math.max(0, at - 20), at + 20));
  return `at character ${at} of ${expected.length} (got ${got.length}): expected …${around(expected)}…, got …${around(got)}…`;
}
