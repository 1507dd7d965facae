/**
 * The bundle carries core's attribute sanitizing with two allocation cuts
 * (scripts/bundle-start.ts). Whatever it keeps, drops, truncates or counts
 * must be what core's own code does: the same awkward values through both,
 * in an app started with the loader.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from '../support/processes.ts';

describe("the bundle's attribute sanitizing", () => {
  it("answers as core's own file does, for every value type, cycles, inherited keys and limits", async () => {
    const result = await runScript('attribute-sanitizing.cjs', { env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' } });
    assert.equal(result.code, 0, result.stderr);
    const line = /SANITIZING (.*)/.exec(result.stdout);
    assert.ok(line, result.stdout);
    const report = JSON.parse(line[1]!) as { same: boolean; differences: unknown[]; sharedFromBundle: boolean; patched: boolean; cases: number };
    assert.equal(report.patched, true, 'the bundle holds the patched sanitizing');
    assert.equal(report.sharedFromBundle, true, "the app's require('@opentelemetry/core') is the bundle's copy");
    assert.deepEqual(report.differences, []);
    assert.equal(report.same, true);
    assert.equal(report.cases, 36);
  });
});
