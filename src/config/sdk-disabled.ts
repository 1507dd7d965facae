import { printLine } from '../logging.ts';
import { readBoolean } from './parse.ts';

/**
 * The one check made before anything else loads: with OTEL_SDK_DISABLED=true
 * the loader must cost nothing but this.
 */
export function isSdkDisabled(env: Readonly<Record<string, string | undefined>>): boolean {
  return readBoolean(env, 'OTEL_SDK_DISABLED', false, printLine);
}

/**
 * The same check without a word about an invalid value: made first, so that
 * OTEL_SDK_DISABLED=true costs no module load at all; the warning for an
 * invalid value is left to isSdkDisabled, in the service's own process only.
 */
export function isSdkDisabledQuietly(env: Readonly<Record<string, string | undefined>>): boolean {
  return readBoolean(env, 'OTEL_SDK_DISABLED', false, () => {});
}
