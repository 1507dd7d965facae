/** OpenTelemetry JS SDK 3.x and module.registerHooks need Node 22.15 or later. */
const MINIMUM = [22, 15] as const;

export function isSupportedNodeVersion(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]);
}

export const MINIMUM_NODE_VERSION = MINIMUM.join('.');
