import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { GrpcRetryingExporter, retryDelayMs } from '../../../src/export/grpc-retry.ts';

/** google.rpc.Status with one RetryInfo detail, hand-encoded (field numbers from google/rpc/status.proto, error_details.proto). */
function statusWithRetryInfo(seconds: number, nanos = 0): Buffer {
  const varint = (n: number) => {
    const bytes: number[] = [];
    do {
      let byte = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) byte |= 0x80;
      bytes.push(byte);
    } while (n > 0);
    return Buffer.from(bytes);
  };
  const field = (number: number, payload: Buffer) => Buffer.concat([varint(number * 8 + 2), varint(payload.length), payload]);
  const duration = Buffer.concat([varint(8), varint(seconds), varint(16), varint(nanos)]);
  const retryInfo = field(1, duration);
  const any = Buffer.concat([field(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(2, retryInfo)]);
  return Buffer.concat([varint(8), varint(8), field(2, Buffer.from('slow down')), field(3, any)]);
}

function grpcError(code: number, details?: Buffer) {
  return Object.assign(new Error(`${code} injected`), { code, metadata: { get: (key: string) => (key === 'grpc-status-details-bin' && details ? [details] : []) } });
}

describe('gRPC export retries (OTLP spec, exporter.md "Retry")', () => {
  it('retries the retryable codes with the backoff', () => {
    for (const code of [1, 4, 10, 11, 14, 15]) assert.equal(retryDelayMs(grpcError(code), 1234), 1234, `code ${code}`);
  });

  it('does not retry the others', () => {
    for (const code of [2, 3, 5, 6, 7, 9, 12, 13, 16]) assert.equal(retryDelayMs(grpcError(code), 1234), undefined, `code ${code}`);
    assert.equal(retryDelayMs(new Error('no code'), 1234), undefined);
    assert.equal(retryDelayMs(undefined, 1234), undefined);
  });

  it('RESOURCE_EXHAUSTED is retried only with RetryInfo, after its delay', () => {
    assert.equal(retryDelayMs(grpcError(8), 1234), undefined);
    assert.equal(retryDelayMs(grpcError(8, statusWithRetryInfo(2, 500_000_000)), 1234), 2500);
  });

  it('RetryInfo overrides the backoff of a retryable code', () => {
    assert.equal(retryDelayMs(grpcError(14, statusWithRetryInfo(0, 300_000_000)), 1234), 300);
  });

  it('a malformed status trailer is ignored, never thrown', () => {
    for (const garbage of [Buffer.from([0xff, 0xff]), Buffer.from([0x1a, 0x50, 0x01]), Buffer.alloc(0)]) {
      assert.equal(retryDelayMs(grpcError(8, garbage), 1234), undefined);
      assert.equal(retryDelayMs(grpcError(14, garbage), 1234), 1234);
    }
  });

  it('gives up after 5 retries and reports the last failure', async () => {
    let calls = 0;
    const failing: SpanExporter = {
      export(_spans, callback) {
        calls++;
        callback({ code: ExportResultCode.FAILED, error: grpcError(14, statusWithRetryInfo(0, 1_000_000)) });
      },
      shutdown: async () => {},
    };
    const result = await new Promise<ExportResult>((resolve) => new GrpcRetryingExporter(failing, 10_000).export([] as ReadableSpan[], resolve));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.equal(calls, 6);
  });

  it('each attempt gets what is left of the one timeout, not a fresh one', async () => {
    const timeouts: number[] = [];
    const sender = {
      export(_spans: ReadableSpan[], callback: (result: ExportResult) => void, timeoutMs?: number) {
        timeouts.push(timeoutMs!);
        // The first attempt fails after 300 ms; the retry (after a 50 ms RetryInfo wait) succeeds.
        if (timeouts.length === 1) setTimeout(() => callback({ code: ExportResultCode.FAILED, error: grpcError(14, statusWithRetryInfo(0, 50_000_000)) }), 300);
        else callback({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
    };
    const result = await new Promise<ExportResult>((resolve) => new GrpcRetryingExporter(sender, 2_000).export([] as ReadableSpan[], resolve));
    assert.equal(result.code, ExportResultCode.SUCCESS);
    assert.equal(timeouts.length, 2);
    assert.ok(timeouts[0]! > 1_900 && timeouts[0]! <= 2_000, `first attempt: ${timeouts[0]} ms`);
    assert.ok(timeouts[1]! <= 2_000 - 340 && timeouts[1]! > 1_000, `the retry gets the rest: ${timeouts[1]} ms`);
  });

  it('stops when the next wait would pass the timeout', async () => {
    let calls = 0;
    const failing: SpanExporter = {
      export(_spans, callback) {
        calls++;
        callback({ code: ExportResultCode.FAILED, error: grpcError(14, statusWithRetryInfo(1)) });
      },
      shutdown: async () => {},
    };
    const startedAt = Date.now();
    await new Promise<ExportResult>((resolve) => new GrpcRetryingExporter(failing, 500).export([] as ReadableSpan[], resolve));
    assert.equal(calls, 1);
    assert.ok(Date.now() - startedAt < 100);
  });
});
