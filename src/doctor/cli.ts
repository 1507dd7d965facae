#!/usr/bin/env node
/**
 * The package's bin: `npx @acme/otel-register doctor [--no-export]`.
 */
import { runDoctor } from './index.ts';

const [command, ...flags] = process.argv.slice(2);
if (command !== 'doctor' || flags.some((flag) => flag !== '--no-export')) {
  process.stderr.write('usage: otel-register doctor [--no-export]\n  Prints the effective configuration, warnings, the instrumentations that apply here,\n  and sends a test span, metric and log record to their configured collectors. Exit code 0 when all is well.\n');
  process.exit(command === undefined || command === '--help' || command === 'help' ? 0 : 2);
}
runDoctor({ noExport: flags.includes('--no-export') }).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`otel-register doctor failed: ${error.message}\n`);
    process.exit(1);
  },
);
