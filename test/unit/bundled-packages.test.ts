import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundleCanStandIn } from '../../src/bundled-packages.ts';

describe('bundleCanStandIn: which installed versions the bundled package serves', () => {
  it('the same version, or an older patch of the same major.minor', () => {
    assert.equal(bundleCanStandIn('3.1.1', '3.1.1'), true);
    assert.equal(bundleCanStandIn('3.1.1', '3.1.0'), true);
    assert.equal(bundleCanStandIn('1.45.10', '1.45.9'), true);
  });

  it('never a newer patch, another minor or another major', () => {
    assert.equal(bundleCanStandIn('3.1.1', '3.1.2'), false);
    assert.equal(bundleCanStandIn('3.1.1', '3.0.0'), false);
    assert.equal(bundleCanStandIn('3.1.1', '3.2.0'), false);
    assert.equal(bundleCanStandIn('3.1.1', '2.1.1'), false);
  });

  it('pre-releases and unknown versions only when equal', () => {
    assert.equal(bundleCanStandIn('3.1.1', '3.1.0-rc.1'), false);
    assert.equal(bundleCanStandIn('3.1.1-rc.1', '3.1.1-rc.1'), true);
    assert.equal(bundleCanStandIn(undefined, '3.1.0'), false);
    assert.equal(bundleCanStandIn('3.1.1', undefined), false);
  });
});
