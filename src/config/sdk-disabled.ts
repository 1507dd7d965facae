import { printLine } from '../logging.ts';
import { readBoolean } from './parse.ts';

/**
 * The one check made before anything else loads: with OTEL_SDK_DISABLED=true
 * the loader must cost nothing but this.
 */
export function isSdkDisabled(env: Readonly<Record<string, string | undefined>>): boolean {
  return readBoolean(env, 'OTEL_SDK_DISABLED', false, printLine);
}
