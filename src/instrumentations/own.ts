/**
 * Instrumentations written here rather than taken from upstream, by the class
 * name their table entry gives. Each only subscribes when its library is first
 * required or imported (the lazy loader constructs it then).
 */
import { FastifyDiagnosticsInstrumentation } from './fastify.ts';

export const OWN_INSTRUMENTATIONS = Object.freeze({ FastifyDiagnosticsInstrumentation });
