import type { Document, LineCounter } from 'yaml';
import type { ConfigProblem } from './config-problem.ts';
import type { PathSegment } from './schema-at.ts';
import { locateYaml, type PointAt } from './yaml-locate.ts';

export interface ProblemReport {
  /** The setting the problem is about, as written in the file (may not exist: a missing key). */
  path: readonly PathSegment[];
  message: string;
  /** The node whose line to show; defaults to `path`. */
  nodePath?: readonly PathSegment[];
  pointAt?: PointAt;
}

/**
 * Collects problems for one file, locating each in the YAML and dropping repeats: the same
 * service-level mistake is found once per environment but should be read once.
 */
export class ProblemList {
  readonly #items: ConfigProblem[] = [];
  readonly #seen = new Set<string>();

  readonly #file: string;
  readonly #doc: Document | undefined;
  readonly #lineCounter: LineCounter | undefined;

  constructor(file: string, doc?: Document, lineCounter?: LineCounter) {
    this.#file = file;
    this.#doc = doc;
    this.#lineCounter = lineCounter;
  }

  report({ path, message, nodePath = path, pointAt = 'value' }: ProblemReport): void {
    const position = this.#doc && this.#lineCounter ? locateYaml(this.#doc, this.#lineCounter, nodePath, pointAt) : undefined;
    this.add({
      file: this.#file,
      ...(position ? { line: position.line, column: position.column } : {}),
      path: path.join('.'),
      message,
    });
  }

  add(problem: ConfigProblem): void {
    const key = [problem.line, problem.column, problem.path, problem.message].join('\u0000');
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#items.push(problem);
  }

  get size(): number {
    return this.#items.length;
  }

  /** In file order, so the output reads top to bottom; problems without a line come last. */
  items(): ConfigProblem[] {
    return [...this.#items].sort(
      (a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0),
    );
  }
}
