/**
 * pino: records are read where pino itself offers them, its `pino_asJson`
 * tracing channel (lib/tools.js, pino >= 9.10; older versions send no records). `end` is published
 * synchronously inside the logging call, in the caller's context, with the
 * finished line as `result`: the same string the app's destination receives
 * next. Nothing the app holds is touched: not its stream (upstream's log
 * sending swaps it for a multistream), not its transport, not the logger.
 * With no subscriber pino skips the channel entirely; we subscribe only when
 * pino loads and OTEL_LOGS_EXPORTER names an exporter.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { pinoRecord } from './library-records.ts';
import { emitLogRecord, logRecordsWanted, startLogRecords } from './log-record-taps.ts';

interface AsJsonMessage {
  instance?: PinoInstance;
  arguments?: ArrayLike<unknown>;
  result?: unknown;
}

interface PinoInstance {
  levels?: { labels?: Record<number, string> };
  [key: symbol]: unknown;
}

let subscribed = false;
/** pino's Symbol('pino.messageKey') (not a registered symbol: found on the first logger, per pino copy). */
let messageKeySymbol: symbol | undefined;

export function tapPinoLines(): void {
  if (subscribed || !logRecordsWanted()) return;
  subscribed = true;
  startLogRecords();
  diagnosticsChannel.tracingChannel('pino_asJson').subscribe({
    start() {},
    end(message) {
      readLine(message as AsJsonMessage);
    },
    asyncStart() {},
    asyncEnd() {},
    error() {},
  });
}

function readLine(message: AsJsonMessage): void {
  const { instance, result } = message;
  const level = message.arguments?.[2];
  if (instance === undefined || typeof result !== 'string' || typeof level !== 'number') return;
  const record = pinoRecord(result, level, messageKeyOf(instance), instance.levels?.labels?.[level]);
  if (record !== undefined) emitLogRecord('pino', record);
}

function messageKeyOf(instance: PinoInstance): string {
  if (messageKeySymbol === undefined || instance[messageKeySymbol] === undefined) messageKeySymbol = findSymbol(instance, 'pino.messageKey');
  const key = messageKeySymbol === undefined ? undefined : instance[messageKeySymbol];
  return typeof key === 'string' ? key : 'msg';
}

/** Child loggers inherit their parent's symbol properties through the prototype chain. */
function findSymbol(instance: object, description: string): symbol | undefined {
  for (let object: object | null = instance; object !== null; object = Object.getPrototypeOf(object) as object | null) {
    const found = Object.getOwnPropertySymbols(object).find((symbol) => symbol.description === description);
    if (found !== undefined) return found;
  }
  return undefined;
}
