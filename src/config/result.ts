// Shared result and error types of the config component. Every parser
// collects all the problems it finds instead of stopping at the first, so a
// user fixes a broken file in one pass.

export interface ConfigError {
  file: string;
  line: number | undefined;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; errors: ConfigError[] };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(errors: ConfigError[]): Result<T> {
  return { ok: false, errors };
}

export function configError(file: string, line: number | undefined, message: string): ConfigError {
  return { file, line, message };
}

/** "<file>:<line>: <message>", or "<file>: <message>" when no line applies. */
export function formatConfigError(e: ConfigError): string {
  return e.line === undefined ? `${e.file}: ${e.message}` : `${e.file}:${e.line}: ${e.message}`;
}
