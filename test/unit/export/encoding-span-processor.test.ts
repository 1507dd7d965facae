import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { BatchConfig } from '../../../src/config/index.ts';
import { EncodingSpanProcessor } from '../../../src/export/encoding-span-processor.ts';
import type { EncodedSpan } from '../../../src/export/span-encoder.ts';
import { assembleTraceRequest } from '../../../src/export/trace-request.ts';
import { RandomTraceIdFlagTracerProvider } from '../../../src/random-trace-id-flag.ts';

const CONFIG: BatchConfig = { scheduledDelayMs: 60_000, exportTimeoutMs: 30_000, maxQueueSize: 20, maxExportBatchSize: 10 };

/** Holds each export until the test answers it; keeps the request it would have sent. */
class HeldExporter {
  readonly calls: { request: Uint8Array; spans: EncodedSpan[]; answer: () => void }[] = [];
  export(spans: EncodedSpan[], done: (result: ExportResult) => void): void {
    this.calls.push({ request: assembleTraceRequest(spans), spans, answer: () => done({ code: ExportResultCode.SUCCESS }) });
  }
  async shutdown(): Promise<void> {}
}

function setup() {
  const exporter = new HeldExporter();
  const reporter = { dropped: 0, droppedAtFullQueue(count: number) { this.dropped += count; }, flushed() {} };
  const processor = new EncodingSpanProcessor(exporter, CONFIG, reporter);
  const ended: ReadableSpan[] = [];
  const recorder: SpanProcessor = { onStart() {}, onEnd: (span) => void ended.push(span), forceFlush: async () => {}, shutdown: async () => {} };
  const provider = new RandomTraceIdFlagTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'processor-test' }), spanProcessors: [processor, recorder] });
  const tracer = provider.getTracer('test', '1.0.0');
  const end = (count: number) => {
    for (let i = 0; i < count; i++) tracer.startSpan(`span ${i}`, { kind: SpanKind.SERVER, attributes: { i } }).end();
  };
  return { exporter, reporter, processor, ended, end };
}

describe('EncodingSpanProcessor', () => {
  it('exports what upstream would have sent for the same spans, a full batch at once', async () => {
    const { exporter, ended, end } = setup();
    end(10);
    await nextTurn();
    assert.equal(exporter.calls.length, 1);
    assert.ok(Buffer.from(exporter.calls[0]!.request).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(ended)!)));
  });

  it('counts spans beyond OTEL_BSP_MAX_QUEUE_SIZE as dropped, in spans', async () => {
    const { exporter, reporter, processor, end } = setup();
    end(25);
    assert.equal(reporter.dropped, 5);
    assert.equal(processor.takeUnexported().length, 20);
    assert.equal(exporter.calls.length, 0, 'nothing exported before the next turn');
  });

  it('hands the exports still unanswered and the queue to the exit flush, bytes intact', async () => {
    const { exporter, processor, ended, end } = setup();
    end(10);
    await nextTurn();
    end(3);
    const handedOver = processor.takeUnexported();
    assert.equal(handedOver.length, 13);
    assert.equal(exporter.calls.length, 1);
    assert.ok(Buffer.from(assembleTraceRequest(handedOver)).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(ended)!)));
  });

  it('a span it cannot encode is dropped with one line on stderr, never thrown at the app', () => {
    const { processor } = setup();
    const broken = {
      name: 'broken',
      kind: SpanKind.INTERNAL,
      startTime: [1, 0],
      endTime: [2, 0],
      spanContext: () => ({ traceId: '1'.repeat(32), spanId: '1'.repeat(16), traceFlags: 1 }),
      get attributes(): never {
        throw new Error('attributes unreadable');
      },
    } as unknown as ReadableSpan;
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as unknown as typeof process.stderr.write;
    try {
      assert.doesNotThrow(() => processor.onEnd(broken));
      assert.doesNotThrow(() => processor.onEnd(broken));
    } finally {
      process.stderr.write = write;
    }
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^@acme\/otel-register: a span could not be encoded for export and is dropped \(.*attributes unreadable\)\n$/);
    assert.equal(processor.takeUnexported().length, 0);
  });
});
