import { JobwireError } from '../errors.js';

/** How many plugin names an unknown-plugin error lists before it stops with "…". */
const MAX_LISTED = 20;

/**
 * `PLUGIN_NOT_FOUND` for `name`, naming the plugins there are (sorted, at most 20, then "…"), so a
 * typo is plain at a glance.
 */
export function unknownPluginError(name: string, available: Iterable<string>): JobwireError {
  const names = [...available].sort();
  const listed = names.slice(0, MAX_LISTED).join(', ') + (names.length > MAX_LISTED ? ', …' : '');
  return new JobwireError('PLUGIN_NOT_FOUND', `Unknown plugin "${name}"; ${names.length === 0 ? 'no plugins are registered' : `available: ${listed}`}`);
}
