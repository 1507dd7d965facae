// Service 2 of the chain: Koa 3, ES module. Asks the prices service with
// undici's request() and with node:http. PRICES_URL, PORT.
import http from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { request } from 'undici';

const prices = process.env.PRICES_URL ?? 'http://127.0.0.1:8083';

function httpGetJson(url) {
  return new Promise((resolve, reject) => {
    http.request(url, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject).end();
  });
}

const app = new Koa();
const router = new Router();
router.get('/inventory/:id', async (ctx) => {
  const { body } = await request(`${prices}/prices/${ctx.params.id}`);
  ctx.body = { id: ctx.params.id, inStock: 3, price: await body.json() };
});
router.get('/inventory/:id/reserved', async (ctx) => {
  ctx.body = { id: ctx.params.id, reserved: 1, price: await httpGetJson(`${prices}/prices/${ctx.params.id}`) };
});
app.use(router.routes());

const server = app.listen(Number(process.env.PORT ?? 8082), '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`);
});
