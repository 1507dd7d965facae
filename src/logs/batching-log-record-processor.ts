import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { BatchingProcessor } from '../export/batching-span-processor.ts';

/**
 * Log records get the spans' batching policy (src/export/batching-span-processor.ts)
 * with the OTEL_BLRP_* settings, in place of upstream's
 * BatchLogRecordProcessor, which drops what does not fit its queue without a
 * word. Drops are counted by the same ExportHealth as spans'.
 */
export class BatchingLogRecordProcessor extends BatchingProcessor<ReadWriteLogRecord> implements LogRecordProcessor {
  onEmit(logRecord: ReadWriteLogRecord): void {
    this.enqueue(logRecord);
  }
}
