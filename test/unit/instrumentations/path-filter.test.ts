import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPathFilter } from '../../../src/instrumentations/path-filter.ts';

describe('createPathFilter', () => {
  const ignored = createPathFilter(['/healthz', '/readyz', '/internal/*'])!;

  it('matches exact paths, ignoring the query string', () => {
    assert.equal(ignored('/healthz'), true);
    assert.equal(ignored('/healthz?verbose=1'), true);
    assert.equal(ignored('/healthzz'), false);
    assert.equal(ignored('/api/healthz'), false);
  });

  it('matches globs', () => {
    assert.equal(ignored('/internal/metrics'), true);
    assert.equal(ignored('/internal'), false);
  });

  it('treats regex characters in patterns literally', () => {
    const filter = createPathFilter(['/a.b', '/x+(*)'])!;
    assert.equal(filter('/a.b'), true);
    assert.equal(filter('/axb'), false);
    assert.equal(filter('/x+(y)'), true);
  });

  it('no patterns, no filter', () => {
    assert.equal(createPathFilter([]), undefined);
    assert.equal(ignored(undefined), false);
  });
});
