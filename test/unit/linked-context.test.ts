import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, createContextKey, propagation, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { LinkedContext, REQUEST_ROOT_CONTEXT } from '../../src/linked-context.ts';

const A = createContextKey('a');
const B = createContextKey('b');

/** The same operations on the API's BaseContext and on ours must read the same. */
function both(build: (root: Context) => Context): [Context, Context] {
  return [build(ROOT_CONTEXT), build(LinkedContext.empty())];
}

describe('LinkedContext reads as the API BaseContext does', () => {
  it('set, overwrite, delete and re-set, at any depth', () => {
    const steps: ((c: Context) => Context)[] = [
      (c) => c.setValue(A, 1),
      (c) => c.setValue(B, 'b'),
      (c) => c.setValue(A, 2),
      (c) => c.setValue(A, 3),
      (c) => c.deleteValue(B),
      (c) => c.deleteValue(A),
      (c) => c.setValue(B, undefined),
      (c) => c.setValue(A, 4),
      (c) => c.deleteValue(createContextKey('never set')),
    ];
    let base = ROOT_CONTEXT;
    let linked: Context = LinkedContext.empty();
    for (const step of steps) {
      base = step(base);
      linked = step(linked);
      assert.deepEqual([linked.getValue(A), linked.getValue(B)], [base.getValue(A), base.getValue(B)]);
    }
  });

  it('is immutable: a context derived from another leaves it as it was', () => {
    const parent = LinkedContext.empty().setValue(A, 'parent');
    const child = parent.setValue(A, 'child');
    const deleted = parent.deleteValue(A);
    assert.equal(parent.getValue(A), 'parent');
    assert.equal(child.getValue(A), 'child');
    assert.equal(deleted.getValue(A), undefined);
    assert.equal(REQUEST_ROOT_CONTEXT.getValue(A), undefined);
  });

  it('carries spans and an extracted remote parent through the API as BaseContext does', () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'k=v' };
    const [base, linked] = both((root) => propagation.extract(root, headers));
    assert.deepEqual(trace.getSpanContext(linked), trace.getSpanContext(base));
    const span = trace.wrapSpanContext(trace.getSpanContext(base)!);
    const [withSpan, linkedWithSpan] = [trace.setSpan(base, span), trace.setSpan(linked, span)];
    assert.equal(trace.getSpan(linkedWithSpan), trace.getSpan(withSpan));
    assert.equal(trace.getSpan(trace.deleteSpan(linkedWithSpan)), undefined);
    assert.equal(trace.getSpan(REQUEST_ROOT_CONTEXT), undefined);
    propagation.disable();
    context.disable();
  });
});
