/** A burst of keep-alive GETs from the test process, `concurrency` at a time: load for span-loss tests. */
import http from 'node:http';

/** With `latenciesMs`, each request's time to its last byte is pushed there. */
export async function burst(url: string, requests: number, concurrency: number, latenciesMs?: number[]): Promise<{ ok: number; failed: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let ok = 0;
  let failed = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const startedAt = performance.now();
      const request = http.get(url, { agent }, (response) => {
        response.resume();
        response.on('end', () => {
          latenciesMs?.push(performance.now() - startedAt);
          if (response.statusCode === 200) ok++;
          else failed++;
          resolve();
        });
      });
      request.on('error', () => {
        failed++;
        resolve();
      });
    });
  const worker = async () => {
    while (next < requests) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { ok, failed };
}
