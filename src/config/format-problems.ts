import type { ConfigProblem } from './config-problem.ts';

export type ProblemSeverity = 'error' | 'warning';

/**
 * One problem as one line, `file:line:column path: message`, the shape editors and terminals
 * turn into a link. Warnings say so; errors don't, since they are what `config check` is about.
 */
export function formatProblem(problem: ConfigProblem, severity: ProblemSeverity = 'error'): string {
  let where = problem.file;
  if (problem.line !== undefined) {
    where += `:${problem.line}`;
    if (problem.column !== undefined) where += `:${problem.column}`;
  }
  const what = severity === 'warning' ? `warning: ${problem.message}` : problem.message;
  return problem.path ? `${where} ${problem.path}: ${what}` : `${where}: ${what}`;
}

export function formatProblems(problems: readonly ConfigProblem[], severity: ProblemSeverity = 'error'): string {
  return problems.map((problem) => formatProblem(problem, severity)).join('\n');
}
