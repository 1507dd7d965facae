/**
 * How test/run.ts starts Node's test runner (shared with the test that holds
 * it to never hanging). --test-force-exit: a test file's process ends once its
 * tests and hooks are done, even when a half-done set-up left a server or a
 * child open (Node >= 22.0); leftover-children.ts kills such children then.
 */
export const NODE_TEST_FLAGS = ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', '--test', '--test-concurrency=2', '--test-timeout=120000', '--test-force-exit', '--test-reporter=spec'];
