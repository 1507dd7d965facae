// Service 3 of the chain: plain node:http, ES module. GET /prices/:id.
import http from 'node:http';

const server = http.createServer((req, res) => {
  const match = /^\/prices\/([^/?]+)/.exec(req.url);
  if (!match) {
    res.statusCode = 404;
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: match[1], amount: 1999, currency: 'EUR' }));
});
server.listen(Number(process.env.PORT ?? 8083), '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`);
});
