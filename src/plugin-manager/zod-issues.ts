import type { z } from 'zod';

/** One validation problem, JSON-safe. */
export interface ValidationIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

/** zod issues reduced to JSON-safe `{ path, code, message }` (symbols in paths become strings). */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === 'symbol' ? key.toString() : key)),
    code: issue.code,
    message: issue.message,
  }));
}

/** A one-line summary of the first issues, for error messages. */
export function summarizeIssues(issues: ValidationIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  return shown.join('; ') + (issues.length > 3 ? ` (+${issues.length - 3} more)` : '');
}
