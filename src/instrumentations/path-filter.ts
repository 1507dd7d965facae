/**
 * ACME_OTEL_IGNORE_PATHS: incoming request paths that get no span at all
 * (health checks, readiness probes). Each pattern is an exact path, or a glob
 * where `*` matches any run of characters: `/healthz`, `/internal/*`.
 * The query string is not part of the match.
 */
export function createPathFilter(patterns: readonly string[]): ((url: string | undefined) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const exact = new Set(patterns.filter((pattern) => !pattern.includes('*')));
  const globs = patterns.filter((pattern) => pattern.includes('*')).map(globToRegExp);
  return (url) => {
    if (url === undefined) return false;
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return exact.has(path) || globs.some((glob) => glob.test(path));
  };
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}
