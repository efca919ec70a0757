import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';
import type { CodeBlock } from './code-blocks.js';

/**
 * The compiler options of a strict TypeScript app on Node: what a reader pastes the docs into.
 * `jobwire` resolves through its own package.json exports to the build in dist/.
 */
export const STRICT_APP: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  skipLibCheck: true,
  noEmit: true,
  // A local plain-JavaScript module (an isolated plugin for worker threads) is imported with the types TypeScript infers from it.
  allowJs: true,
};

/** {@link STRICT_APP} for a React app in the browser: `tsx` blocks, with the DOM. */
export const STRICT_REACT_APP: ts.CompilerOptions = { ...STRICT_APP, lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'], jsx: ts.JsxEmit.ReactJSX };

/** The context blocks `block` continues (each once, a context's own contexts first), then `block`: what a reader pastes. */
export function withContexts(block: CodeBlock, contexts: ReadonlyMap<string, CodeBlock>): CodeBlock[] {
  const order: CodeBlock[] = [];
  const visit = (part: CodeBlock, path: readonly string[]): void => {
    for (const name of part.contexts) {
      const context = contexts.get(name);
      if (!context) throw new Error(`${block.file}:${block.line}: unknown context "${name}" (docs/README.md defines: ${[...contexts.keys()].join(', ') || 'none'})`);
      if (path.includes(name)) throw new Error(`contexts that continue each other: ${[...path, name].join(' → ')}`);
      visit(context, [...path, name]);
    }
    if (!order.includes(part)) order.push(part);
  };
  visit(block, block.defines === undefined ? [] : [block.defines]);
  return order;
}

/** A type error in a block, located in the Markdown file. */
export interface BlockError {
  at: string;
  message: string;
}

/**
 * Type-check every block as its own module (the context blocks it names pasted before it, as a
 * reader would) in one program; the errors of each block keyed by `file:line` of the block.
 */
export function typeCheckBlocks(blocks: readonly CodeBlock[], contexts: ReadonlyMap<string, CodeBlock>, dir: string, jsFiles: readonly CodeBlock[] = [], options: ts.CompilerOptions = STRICT_APP): Map<CodeBlock, BlockError[]> {
  mkdirSync(dir, { recursive: true });
  // JavaScript blocks named with `// @file` are written beside the TypeScript blocks of their doc, to be imported.
  for (const block of jsFiles) {
    if (block.fileName === undefined) continue;
    const path = resolve(dir, block.file.replace(/[/.]/g, '_'), block.fileName);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, block.code);
  }
  const sources = new Map<string, { block: CodeBlock; lines: { block: CodeBlock; from: number }[] }>();
  for (const block of blocks) {
    const parts = withContexts(block, contexts);
    const lines: { block: CodeBlock; from: number }[] = [];
    let text = '';
    for (const part of parts) {
      lines.push({ block: part, from: text.split('\n').length - 1 });
      text += part.code;
    }
    // The blocks of one doc share a folder: a block named with `// @file` is importable by the others.
    const folder = resolve(dir, block.file.replace(/[/.]/g, '_'));
    mkdirSync(folder, { recursive: true });
    const path = resolve(folder, block.fileName ?? `block_${block.line}.${block.language}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    sources.set(path, { block, lines });
  }

  const program = ts.createProgram([...sources.keys()], options);
  const errors = new Map<CodeBlock, BlockError[]>(blocks.map((block) => [block, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const source = diagnostic.file && sources.get(resolve(diagnostic.file.fileName));
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!source || diagnostic.start === undefined) throw new Error(`not in a block: ${message}`);
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
    const part = source.lines.findLast((candidate) => candidate.from <= line)!;
    const where = part.block === source.block ? '' : ` (context "${part.block.defines}")`;
    errors.get(source.block)!.push({ at: `${part.block.file}:${part.block.line + line - part.from}${where}`, message });
  }
  return errors;
}
