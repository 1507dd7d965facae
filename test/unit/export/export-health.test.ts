import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ExportHealth } from '../../../src/export/export-health.ts';

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

  it('hears queue_full drops through the batch processor\'s self-observability meter, and nothing else', () => {
    const health = new ExportHealth('c:4317 (OTLP grpc)', 20);
    const meter = health.queueDropMeterProvider().getMeter('@opentelemetry/sdk-trace');
    const processed = meter.createCounter('otel.sdk.processor.span.processed');
    processed.add(2, { 'error.type': 'queue_full' });
    processed.add(9, {});
    processed.add(4, { 'error.type': 'Error' });
    meter.createUpDownCounter('otel.sdk.processor.span.queue.capacity').add(20);
    health.succeeded();
    assert.match(printed[0]!, /; 2 spans dropped$/);
  });
});
