import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bunyanRecord, pinoRecord, severityOfNumericLevel, severityOfWinstonLevel, winstonRecord } from '../../../src/logs/library-records.ts';
import { formatLogRecord } from '../../../src/logs/console-log-processor.ts';

describe('log library records as OTLP fields', () => {
  it('numeric levels (pino, bunyan) map to the OTLP severity ranges, custom levels to the range below', () => {
    assert.deepEqual([10, 20, 30, 35, 40, 50, 60, 0].map(severityOfNumericLevel), [1, 5, 9, 9, 13, 17, 21, 0]);
  });

  it("winston's npm and syslog levels map as upstream's transport maps them", () => {
    assert.deepEqual(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly', 'emerg', 'notice', 'made-up'].map(severityOfWinstonLevel), [17, 13, 9, 7, 6, 5, 1, 23, 10, 0]);
  });

  it('pino: the message key is the body, level and time are fields of the record, correlation fields are dropped', () => {
    const line = '{"level":30,"time":1700000000000,"pid":1,"trace_id":"ab","span_id":"cd","trace_flags":"01","user":{"id":7},"message":"hi"}\n';
    assert.deepEqual(pinoRecord(line, 30, 'message', 'info'), { severityNumber: 9, severityText: 'info', body: 'hi', attributes: { pid: 1, user: { id: 7 } }, timestamp: 1_700_000_000_000 });
    assert.equal(pinoRecord('not json', 30, 'msg', 'info'), undefined);
  });

  it('winston: message is the body, level is not an attribute, an error becomes a map', () => {
    const error = new TypeError('boom');
    const record = winstonRecord({ level: 'warn', message: 'careful', service: 's', err: error, trace_id: 'x' }, 'warn');
    assert.equal(record.body, 'careful');
    assert.equal(record.severityNumber, 13);
    assert.deepEqual(record.attributes, { service: 's', err: { type: 'TypeError', message: 'boom', stack: error.stack } });
  });

  it("bunyan: msg is the body, bunyan's core fields are not attributes, the time is the record's", () => {
    const time = new Date('2026-01-02T03:04:05.678Z');
    const record = bunyanRecord({ name: 'app', hostname: 'h', pid: 1, level: 50, msg: 'bad', time, v: 0, code: 42 }, 'error');
    assert.deepEqual(record, { severityNumber: 17, severityText: 'error', body: 'bad', attributes: { name: 'app', code: 42 }, timestamp: time.getTime() });
  });

  it('console: one line with time, severity, body, trace and span ids, and the attributes', () => {
    const line = formatLogRecord({
      hrTime: [1_700_000_000, 5_000_000],
      severityText: 'warn',
      severityNumber: 13,
      body: 'two\nlines',
      attributes: { url: '/x', n: 1 },
      spanContext: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 },
    });
    assert.equal(line, `2023-11-14T22:13:20.005Z WARN  two lines trace_id=${'a'.repeat(32)} span_id=${'b'.repeat(16)} url="/x" n=1`);
  });
});
