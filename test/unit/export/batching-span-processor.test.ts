import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { BatchConfig } from '../../../src/config/index.ts';
import { BatchingSpanProcessor, MAX_BATCH_GROWTH, MAX_CONCURRENT_EXPORTS } from '../../../src/export/batching-span-processor.ts';

function span(sampled = true): ReadableSpan {
  return { spanContext: () => ({ traceId: '1'.repeat(32), spanId: '1'.repeat(16), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE }) } as unknown as ReadableSpan;
}

/** An exporter whose exports stay in flight until the test answers them. */
class HeldExporter implements SpanExporter {
  readonly calls: { size: number; answer: (code?: ExportResultCode) => void }[] = [];
  shutdowns = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.calls.push({ size: spans.length, answer: (code = ExportResultCode.SUCCESS) => done({ code }) });
  }
  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
  answerAll(): void {
    for (const call of this.calls.splice(0)) call.answer();
  }
  get sizes(): number[] {
    return this.calls.map((call) => call.size);
  }
}

class CountingReporter {
  dropped = 0;
  flushes = 0;
  droppedAtFullQueue(count: number): void {
    this.dropped += count;
  }
  flushed(): void {
    this.flushes++;
  }
}

const CONFIG: BatchConfig = { scheduledDelayMs: 60_000, exportTimeoutMs: 30_000, maxQueueSize: 1000, maxExportBatchSize: 10 };

function setup(config: Partial<BatchConfig> = {}) {
  const exporter = new HeldExporter();
  const reporter = new CountingReporter();
  const processor = new BatchingSpanProcessor(exporter, { ...CONFIG, ...config }, reporter);
  const end = (count: number, sampled = true) => {
    for (let i = 0; i < count; i++) processor.onEnd(span(sampled));
  };
  return { exporter, reporter, processor, end };
}

describe('BatchingSpanProcessor', () => {
  it('exports a full batch right away, without waiting for the schedule delay', async () => {
    const { exporter, end } = setup();
    end(10);
    await nextTurn();
    assert.deepEqual(exporter.sizes, [10]);
  });

  it('exports a partial batch once the schedule delay has passed', async () => {
    const { exporter, end } = setup({ scheduledDelayMs: 20 });
    end(3);
    await nextTurn();
    assert.deepEqual(exporter.sizes, []);
    // Polled, not one fixed sleep: on a loaded machine the 20 ms timer can fire late.
    for (const until = Date.now() + 2_000; exporter.sizes.length === 0 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(exporter.sizes, [3]);
  });

  it(`keeps up to ${MAX_CONCURRENT_EXPORTS} exports in flight, then sends the backlog in batches up to ${MAX_BATCH_GROWTH} times bigger`, async () => {
    const { exporter, end } = setup();
    for (let i = 0; i < 6; i++) {
      end(10);
      await nextTurn();
    }
    assert.deepEqual(exporter.sizes, [10, 10, 10, 10], 'four in flight, twenty spans waiting');
    end(40);
    exporter.calls.shift()!.answer();
    await nextTurn();
    await nextTurn();
    assert.deepEqual(exporter.sizes, [10, 10, 10, 40], 'the freed slot takes four batches at once');
  });

  it('ignores spans that are not sampled', async () => {
    const { exporter, processor, end } = setup();
    end(25, false);
    await processor.forceFlush();
    assert.deepEqual(exporter.sizes, []);
  });

  it('drops only when the queue is full and counts every drop', async () => {
    const { exporter, reporter, end } = setup({ maxQueueSize: 50 });
    for (let i = 0; i < 4; i++) {
      end(10);
      await nextTurn();
    }
    end(60); // 50 fit the queue, 10 do not
    assert.equal(reporter.dropped, 10);
    exporter.answerAll();
    await nextTurn();
    await nextTurn();
    assert.equal(reporter.dropped, 10);
    assert.equal(exporter.sizes.reduce((sum, size) => sum + size, 0), 50);
  });

  it('forceFlush exports everything queued and waits for every export in flight', async () => {
    const { exporter, processor, end } = setup();
    end(10);
    await nextTurn();
    end(7);
    let flushed = false;
    const flush = processor.forceFlush().then(() => (flushed = true));
    await nextTurn();
    assert.deepEqual(exporter.sizes, [10, 7]);
    assert.equal(flushed, false, 'not before the exports answered');
    exporter.answerAll();
    await flush;
    assert.equal(flushed, true);
  });

  it('shutdown flushes, reports drops not yet reported, then shuts the exporter down; later spans are ignored', async () => {
    const { exporter, reporter, processor, end } = setup({ maxQueueSize: 5, maxExportBatchSize: 5 });
    end(8);
    assert.equal(reporter.dropped, 3);
    const shutdown = processor.shutdown();
    await nextTurn();
    exporter.answerAll();
    await shutdown;
    assert.equal(reporter.flushes, 1, 'told once the queue is empty, so unreported drops are printed');
    assert.equal(exporter.shutdowns, 1);
    end(5);
    await nextTurn();
    assert.deepEqual(exporter.sizes, []);
  });

  it('an export that never answers frees its slot after OTEL_BSP_EXPORT_TIMEOUT', async () => {
    const { exporter, processor, end } = setup({ exportTimeoutMs: 30 });
    end(10);
    await nextTurn();
    const startedAt = Date.now();
    // The processor's timers are unref'd (they must not keep an app alive); this test must stay alive for them.
    const keepAlive = setInterval(() => {}, 1_000);
    await processor.forceFlush().finally(() => clearInterval(keepAlive));
    assert.ok(Date.now() - startedAt >= 25, 'waited for the deadline');
    assert.deepEqual(exporter.sizes, [10]);
  });

  it('takeUnexported hands over the queue and the exports still unanswered, and leaves nothing behind', async () => {
    const { exporter, processor, end } = setup();
    end(10);
    await nextTurn();
    end(15);
    await nextTurn();
    assert.deepEqual(exporter.sizes, [10, 10], 'two exports in flight, 5 spans queued');
    exporter.calls[0]!.answer();
    await nextTurn();
    assert.equal(processor.takeUnexported().length, 15, 'the unanswered export (10) and the queued rest (5)');
    assert.equal(processor.takeUnexported().length, 0);
  });

  it('an export given up after OTEL_BSP_EXPORT_TIMEOUT is not handed to the exit flush again', async () => {
    const { processor, end } = setup({ exportTimeoutMs: 30 });
    end(10);
    await nextTurn();
    const keepAlive = setInterval(() => {}, 1_000);
    await processor.forceFlush().finally(() => clearInterval(keepAlive));
    assert.deepEqual(processor.takeUnexported(), []);
  });
});
