// Service 1 of the chain: Express 5, CommonJS. GET /orders/:id reads a cache
// entry in Redis (ioredis), then asks the inventory service with fetch and
// with axios. INVENTORY_URL, REDIS_URL, PORT.
const express = require('express');
const axios = require('axios');
const Redis = require('ioredis');

const inventory = process.env.INVENTORY_URL ?? 'http://127.0.0.1:8082';
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
const app = express();

app.get('/orders/:id', async (req, res) => {
  const cached = await redis.get(`order:${req.params.id}`);
  const stock = await (await fetch(`${inventory}/inventory/${req.params.id}`)).json();
  const reserved = (await axios.get(`${inventory}/inventory/${req.params.id}/reserved`)).data;
  await redis.set(`order:${req.params.id}`, JSON.stringify(stock), 'EX', 60);
  res.json({ order: req.params.id, cached: cached !== null, stock, reserved });
});

const server = app.listen(Number(process.env.PORT ?? 8081), '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`);
});
