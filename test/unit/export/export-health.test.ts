import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ExportHealth, LOG_RECORDS, METRIC_POINTS } from '../../../src/export/export-health.ts';
import { runProcessEndReports } from '../../../src/lifecycle/process-end-reports.ts';

let printed: string[] = [];
const originalWrite = process.stderr.write;
beforeEach(() => {
  printed = [];
  process.stderr.write = ((chunk: string) => {
    printed.push(String(chunk).trimEnd());
    return true;
  }) as typeof process.stderr.write;
});
afterEach(() => {
  process.stderr.write = originalWrite;
});

describe('ExportHealth', () => {
  it('one line when failing starts, one when it recovers with every span lost in between', () => {
    const health = new ExportHealth('c:4317 (OTLP grpc)', 100);
    health.failed(10, new Error('14 UNAVAILABLE: down\nmetadata: x-api-key=s3cret'));
    health.failed(5, new Error('again'));
    health.droppedAtFullQueue(7);
    health.succeeded();
    health.succeeded();
    assert.deepEqual(printed, [
      '@acme/otel-register: exporting spans to c:4317 (OTLP grpc) failed (14 UNAVAILABLE: down); spans are dropped until it works again',
      '@acme/otel-register: exporting spans to c:4317 (OTLP grpc) works again; 22 spans were dropped while it failed',
    ]);
  });

  it('queue drops before a failed export belong to that outage', () => {
    const health = new ExportHealth('c:4317 (OTLP grpc)', 100);
    health.droppedAtFullQueue(40);
    health.failed(10, undefined);
    health.succeeded();
    assert.match(printed[1]!, /50 spans were dropped/);
  });

  it('queue drops while exports succeed: one line at most per minute, with the count since the last', () => {
    let now = 0;
    const health = new ExportHealth('c:4317 (OTLP grpc)', 20, () => now);
    health.droppedAtFullQueue(3);
    health.succeeded();
    health.droppedAtFullQueue(4);
    health.succeeded();
    now = 30_000;
    health.droppedAtFullQueue(5);
    health.succeeded();
    now = 61_000;
    health.succeeded();
    assert.deepEqual(printed, [
      '@acme/otel-register: the span queue (OTEL_BSP_MAX_QUEUE_SIZE=20) is full: exports to c:4317 (OTLP grpc) cannot keep up; 3 spans dropped',
      '@acme/otel-register: the span queue (OTEL_BSP_MAX_QUEUE_SIZE=20) is full: exports to c:4317 (OTLP grpc) cannot keep up; 9 spans dropped',
    ]);
  });

  it('at the flush, drops not yet reported are printed whatever the interval; during an outage they join its count instead', () => {
    const health = new ExportHealth('c:4317 (OTLP grpc)', 20, () => 0);
    health.droppedAtFullQueue(3);
    health.succeeded();
    health.droppedAtFullQueue(4);
    health.flushed();
    health.flushed();
    health.failed(1, undefined);
    health.droppedAtFullQueue(6);
    health.flushed();
    assert.deepEqual(printed.map((line) => /(\d+) spans dropped$/.exec(line)?.[1] ?? line.slice(0, 60)), [
      '3',
      '4',
      '@acme/otel-register: exporting spans to c:4317 (OTLP grpc) f',
    ]);
  });
  it('exports sent during an outage that fail after a later one succeeded: one recovery line, counting them too', () => {
    const health = new ExportHealth('c:4317 (OTLP grpc)', 100);
    const hung = [health.exportStarted(), health.exportStarted()];
    health.failed(10, undefined, health.exportStarted());
    const afterRecovery = health.exportStarted();
    health.succeeded(afterRecovery);
    assert.equal(printed.length, 1, 'not yet: two exports of the outage are still in flight');
    health.failed(10, undefined, hung[0]);
    health.failed(10, undefined, hung[1]);
    assert.deepEqual(printed.slice(1), ['@acme/otel-register: exporting spans to c:4317 (OTLP grpc) works again; 30 spans were dropped while it failed']);
  });

  it('an export sent after the one that succeeded fails: the outage goes on, no recovery line yet', () => {
    const health = new ExportHealth('c:4317 (OTLP grpc)', 100);
    const hung = health.exportStarted();
    health.failed(5, undefined, health.exportStarted());
    health.succeeded(health.exportStarted());
    health.failed(5, undefined, health.exportStarted());
    health.failed(5, undefined, hung);
    assert.equal(printed.length, 1);
    health.succeeded(health.exportStarted());
    assert.match(printed[1]!, /works again; 15 spans were dropped/);
  });
});

describe('ExportHealth for spans and metrics', () => {
  it('one collector failing for both signals is one line, from the first to notice; each signal reports its own recovery and count', () => {
    const spans = new ExportHealth('shared:4317 (OTLP grpc)', 100);
    const metrics = new ExportHealth('shared:4317 (OTLP grpc)', undefined, Date.now, METRIC_POINTS);
    spans.failed(3, new Error('14 UNAVAILABLE: down'));
    metrics.failed(40, new Error('14 UNAVAILABLE: down'));
    assert.deepEqual(printed, ['@acme/otel-register: exporting spans to shared:4317 (OTLP grpc) failed (14 UNAVAILABLE: down); spans are dropped until it works again']);
    metrics.succeeded();
    spans.succeeded();
    assert.deepEqual(printed.slice(1), [
      '@acme/otel-register: exporting metrics to shared:4317 (OTLP grpc) works again; 40 metric points were dropped while it failed',
      '@acme/otel-register: exporting spans to shared:4317 (OTLP grpc) works again; 3 spans were dropped while it failed',
    ]);
  });

  it("logs: an outage still on when the process ends is reported then with its count, once; spans' and metrics' only at recovery", () => {
    const logs = new ExportHealth('end:4317 (OTLP grpc)', 100, Date.now, LOG_RECORDS);
    const metrics = new ExportHealth('end-metrics:4317 (OTLP grpc)', undefined, Date.now, METRIC_POINTS);
    const spans = new ExportHealth('end-spans:4317 (OTLP grpc)', 100);
    logs.failed(10, new Error('14 UNAVAILABLE: down'));
    logs.droppedAtFullQueue(5);
    metrics.failed(3, new Error('14 UNAVAILABLE: down'));
    spans.failed(7, new Error('14 UNAVAILABLE: down'));
    printed = [];
    runProcessEndReports();
    runProcessEndReports();
    assert.deepEqual(printed.filter((line) => line.includes(':4317')), [
      '@acme/otel-register: exporting logs to end:4317 (OTLP grpc) still failed when the process ended; 15 log records were dropped while it failed',
    ]);
  });
});
