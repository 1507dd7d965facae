import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { ConsoleTreeProcessor } from '../../../src/export/console-tree-processor.ts';

/** A real tracer feeding a ConsoleTreeProcessor whose output is collected, with the patience each write was given. */
function setup() {
  const writes: { text: string; patienceMs: number }[] = [];
  const view = new ConsoleTreeProcessor((text, patienceMs) => writes.push({ text, patienceMs }));
  const tracer = new TracerProvider({ spanProcessors: [view] }).getTracer('test');
  const child = (parent: ReturnType<typeof tracer.startSpan>, name: string) => tracer.startSpan(name, {}, trace.setSpan(context.active(), parent));
  const printed = () => writes.map((write) => write.text).join('');
  return { view, tracer, child, writes, printed };
}

describe('ConsoleTreeProcessor', () => {
  it('printAll prints every trace held at once, as trees, with the exit patience for a full pipe', () => {
    const { view, tracer, child, writes, printed } = setup();
    const root = tracer.startSpan('root');
    child(root, 'child').end();
    root.end();
    const other = tracer.startSpan('other');
    other.end();
    assert.equal(printed(), '', 'still settling');
    view.printAll();
    assert.match(printed(), /INTERNAL "root" .*\n.*  └ INTERNAL "child" /);
    assert.match(printed(), /INTERNAL "other" /);
    assert.ok(writes.every((write) => write.patienceMs > 0));
    view.printAll();
    assert.equal(writes.length, 2, 'one write per trace, nothing printed twice');
  });

  it('a span whose parent has not ended is printed under "(parent not ended)"; one whose parent ended earlier is not marked', () => {
    const { view, tracer, child, printed } = setup();
    const request = tracer.startSpan('request');
    const call = child(request, 'call');
    child(call, 'downstream').end();
    call.end();
    view.printAll();
    assert.match(printed(), /INTERNAL "call" \d+\.\dms parent=[0-9a-f]{16} \(parent not ended\)\n.*  └ INTERNAL "downstream" /);
    const late = child(request, 'late');
    request.end();
    view.printAll();
    late.end();
    view.printAll();
    assert.match(printed(), /INTERNAL "late" \d+\.\dms parent=[0-9a-f]{16}\n/);
    assert.doesNotMatch(printed(), /"late" .*not ended/);
  });

  it('forceFlush (the process goes on) prints the traces whose root ended, and keeps a trace in progress whole for later', async () => {
    const { view, tracer, child, printed } = setup();
    const done = tracer.startSpan('done');
    done.end();
    const inProgress = tracer.startSpan('in progress');
    child(inProgress, 'first step').end();
    await view.forceFlush();
    assert.match(printed(), /"done"/);
    assert.doesNotMatch(printed(), /"first step"/);
    inProgress.end();
    view.printAll();
    assert.match(printed(), /INTERNAL "in progress" .*\n.*  └ INTERNAL "first step" /, 'printed as one tree');
  });
});
