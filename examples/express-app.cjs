// An Express 5 CommonJS app: a parameterised route, and a route that calls
// another service (DOWNSTREAM_URL, default itself) with fetch.
const express = require('express');

const app = express();
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id });
});
app.get('/chain', async (req, res) => {
  const downstream = process.env.DOWNSTREAM_URL ?? `http://127.0.0.1:${server.address().port}`;
  const response = await fetch(`${downstream}/users/42`);
  res.json({ downstream: await response.json() });
});
const server = app.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING ${server.address().port}`);
});
