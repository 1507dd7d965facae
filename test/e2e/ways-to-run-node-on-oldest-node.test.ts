/**
 * On Node 22.15, the oldest supported, ESM hooks take the module.register
 * fallback (off-thread, every enabled instrumentation loaded up front): the
 * ways of running source text still behave exactly as bare there, with the
 * flag the Kubernetes Operator injects. Only those ways: each loader run
 * costs ~1.5 s of CPU on that path.
 */
import { describe } from 'node:test';
import { oldestSupportedNode } from '../support/oldest-node.ts';
import { describeWaysComparedWithBare, WAYS } from '../support/ways-to-run.ts';

describe('on Node 22.15 (the module.register fallback), code run as source text works under the loader exactly as bare', () => {
  describeWaysComparedWithBare(WAYS.filter((way) => way.sourceText === true), ['node-options-require'], oldestSupportedNode, ' on Node 22.15');
});
