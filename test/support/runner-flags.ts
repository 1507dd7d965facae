/**
 * How test/run.ts starts Node's test runner (shared with the test that holds
 * it to never hanging). No --test-force-exit: on Node 24 it ends a file once
 * the tests known so far are done, silently dropping describe blocks not yet
 * started (kontur.test.ts reported 38 of its 44 tests). A half-done set-up
 * cannot hang a file because every `after` closes only what was started, and
 * leftover-children.ts kills the processes a file started when it exits.
 */
export const NODE_TEST_FLAGS = ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', '--test', '--test-concurrency=2', '--test-timeout=120000', '--test-reporter=spec'];
