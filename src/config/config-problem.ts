/**
 * One thing wrong (or worth a warning) in the configuration, located for a human: the file,
 * the 1-based line and column when known, and the dotted path of the setting as written in the
 * file (`services.kevinstamp.environments.production.health.attempts`).
 */
export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the setting; '' when the problem is not about one setting (a YAML syntax error). */
  path: string;
  message: string;
}
