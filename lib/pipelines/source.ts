import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { pointer, type FieldProblem } from '../errors/problem';

/**
 * Reading a definition from text (YAML or JSON) while keeping where each value came from, so that a
 * problem's JSON pointer can be printed as `file:line:col` by the CLI, and YAML's silent footguns
 * (duplicate keys) become problems instead of a last-one-wins surprise.
 */

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

/** A problem found while reading text; syntax errors carry their own position (their pointer is ""). */
export type SourceProblem = FieldProblem & Partial<SourcePosition>;

export interface ParsedSource {
  /** The document as plain JSON values; undefined when the text does not parse at all. */
  value: unknown;
  /** Syntax problems and duplicate keys, with pointers (and positions in `positions`). */
  problems: SourceProblem[];
  /** Pointer → where its value starts. `key:` + pointer → where its key starts. */
  positions: Map<string, SourcePosition>;
}

/** Definitions are small documents; anything larger is a mistake (or an attack on the parser). */
export const MAX_DEFINITION_BYTES = 1024 * 1024;

/** Parses YAML (which includes JSON) keeping positions. Never throws. */
export function parseDefinitionText(text: string): ParsedSource {
  const positions = new Map<string, SourcePosition>();
  const problems: SourceProblem[] = [];
  const lineCounter = new LineCounter();
  let doc;
  try {
    doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, strict: true });
  } catch (e) {
    return {
      value: undefined,
      problems: [{ pointer: '', message: `cannot parse: ${(e as Error).message}` }],
      positions,
    };
  }
  const at = (offset: number): SourcePosition => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  for (const err of doc.errors) {
    const pos = at(err.pos[0]);
    const msg = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    const problem: SourceProblem = {
      pointer: '',
      message: `YAML syntax error at line ${pos.line}, column ${pos.col}: ${msg}`,
      line: pos.line,
      col: pos.col,
    };
    problems.push(problem);
  }
  if (problems.length > 0) {
    positions.set('', { line: 1, col: 1 });
    return { value: undefined, problems, positions };
  }

  const walk = (node: Node | null | undefined, path: string[]): void => {
    if (!node) return;
    if (node.range) positions.set(pointer(path), at(node.range[0]));
    if (isMap(node)) {
      const seen = new Map<string, SourcePosition>();
      const duplicates = new Set<unknown>();
      for (const item of node.items) {
        const keyNode = item.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const keyPos = keyNode?.range
          ? at(keyNode.range[0])
          : (positions.get(pointer(path)) ?? { line: 1, col: 1 });
        const childPath = [...path, key];
        const first = seen.get(key);
        if (first) {
          const what = path.length === 1 && path[0] === 'steps' ? `step "${key}"` : `key "${key}"`;
          problems.push({
            pointer: pointer(childPath),
            message:
              `${what} is defined twice (line ${first.line} and line ${keyPos.line}); YAML would silently keep ` +
              'only the last one. Rename or merge them.',
            line: keyPos.line,
            col: keyPos.col,
          });
          duplicates.add(item);
          continue;
        }
        seen.set(key, keyPos);
        positions.set('key:' + pointer(childPath), keyPos);
        walk(item.value as Node | null, childPath);
        if (!item.value) positions.set(pointer(childPath), keyPos);
      }
      // Keep the first occurrence, so the rest of validation talks about the lines the pointers show.
      if (duplicates.size) node.items = node.items.filter((i) => !duplicates.has(i));
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as Node, [...path, String(i)]));
    }
  };
  walk(doc.contents as Node | null, []);
  if (!positions.has('')) positions.set('', { line: 1, col: 1 });

  let value: unknown;
  try {
    // Aliases can expand exponentially ("billion laughs"); yaml caps the expansion and throws.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    problems.push({ pointer: '', message: `cannot read the document: ${(e as Error).message}` });
    return { value: undefined, problems, positions };
  }
  return { value, problems, positions };
}

/**
 * Where to show a problem: the position of the pointer's value, or of its key for "unknown key"
 * problems, or of the nearest ancestor that exists (a missing field is shown at its parent).
 */
export function positionOf(
  positions: Map<string, SourcePosition>,
  ptr: string,
  preferKey = false,
): SourcePosition {
  let p = ptr;
  for (;;) {
    const hit = (preferKey && positions.get('key:' + p)) || positions.get(p);
    if (hit) return hit;
    if (p === '') return { line: 1, col: 1 };
    p = p.slice(0, p.lastIndexOf('/'));
    preferKey = true;
  }
}
