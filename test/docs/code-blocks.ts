import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** One fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the block's first code line in `file`. */
  line: number;
  language: string;
  code: string;
  /** Names from a leading `// @context a, b` line: the docs/README.md context blocks it continues. */
  contexts: string[];
  /** The name from a leading `// @defines name` line: a context block of docs/README.md. */
  defines?: string;
  /** The path from a leading `// @file name.ts` (or `dir/name.ts`, `name.tsx`, `name.mjs`) line: other blocks of the same doc import it by that path. */
  fileName?: string;
}

const root = resolve(import.meta.dirname, '../..');

/** README.md and every docs/*.md: the files whose ```ts blocks are type-checked. */
export function markdownFiles(): string[] {
  const docs = readdirSync(resolve(root, 'docs')).filter((name) => name.endsWith('.md')).sort();
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

/** Every fenced block of `file`, in order. */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(resolve(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((text, at) => at > i && text.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block that never closes`);
    const code = lines.slice(i + 1, end).join('\n');
    const header = lines.slice(i + 1, end).filter((text, at) => at < 2 && text.startsWith('// @'));
    const contexts = header.flatMap((text) => /^\/\/ @context (.+)$/.exec(text)?.[1]?.split(',').map((name) => name.trim()) ?? []);
    const defines = header.map((text) => /^\/\/ @defines (\S+)$/.exec(text)?.[1]).find((name) => name !== undefined);
    const fileName = header.map((text) => /^\/\/ @file ((?:[\w-]+\/)*[\w.-]+\.(?:ts|tsx|mjs|js))$/.exec(text)?.[1]).find((name) => name !== undefined);
    blocks.push({ file, line: i + 2, language: open[1] ?? '', code: `${code}\n`, contexts, ...(defines === undefined ? {} : { defines }), ...(fileName === undefined ? {} : { fileName }) });
    i = end;
  }
  return blocks;
}
