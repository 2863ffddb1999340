// Drives the Keel sandbox's OANDA v20 trading API with OANDA's own JavaScript client (@oanda/v20 3.0.25-0), changing
// nothing but the host: new Context(host, port, false, app) (plain HTTP) and setToken.
// Usage: node client.mjs HOST PORT TOKEN ACCOUNT_ID
// Prints one JSON object per line, one per step ({"step":"…", …}); the C# test asserts on them.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Context } = require("@oanda/v20/context"); // the package has no "main": require("@oanda/v20") fails

const [host, portText, token, account] = process.argv.slice(2);
const port = Number(portText);
const base = `http://${host}:${port}`;
const ctx = new Context(host, port, false, "keel-sandbox-test");
ctx.setToken(token);

const print = (step, fields) => console.log(JSON.stringify({ step, ...fields }));

// The library is callback style: fn(...args, responseHandler). One promise per call, failing on a status other than
// the one the step expects (the body is then parsed only for the codes the library documents).
function call(expected, fn, ...args) {
  return new Promise((resolve, reject) => {
    fn(...args, (response) => {
      if (String(response.statusCode) !== String(expected)) {
        reject(new Error(`${response.method} ${response.path} answered ${response.statusCode}, expected ${expected}: ${response.rawBody}`));
      } else {
        resolve(response.body);
      }
    });
  });
}

// Scripted prices and the fault/stream state are sandbox controls, not part of OANDA's API: plain fetch.
async function price(instrument, mid) {
  const r = await fetch(`${base}/_sandbox/oanda/prices`, { method: "POST", body: JSON.stringify({ instrument, prices: [mid] }) });
  if (!r.ok) throw new Error(`scripting a price answered ${r.status}`);
  return r.status;
}

async function streamClients() {
  const r = await fetch(`${base}/_sandbox/oanda/faults`);
  return (await r.json()).stream_clients;
}

const orderOf = (o) => ({
  id: o.id, type: o.type, state: o.state, instrument: o.instrument, units: o.units, price: o.price ?? null,
  clientId: o.clientExtensions?.id ?? null, replacesOrderID: o.replacesOrderID ?? null,
});

const summary = await call(200, ctx.account.summary.bind(ctx.account), account);
print("summary", {
  id: summary.account.id, currency: summary.account.currency, balance: summary.account.balance,
  openTradeCount: summary.account.openTradeCount, lastTransactionID: summary.lastTransactionID,
});
const firstId = summary.lastTransactionID;

print("price", { status: await price("EUR_USD", "1.10000") });

const market = await call(201, ctx.order.create.bind(ctx.order), account, {
  order: { type: "MARKET", instrument: "EUR_USD", units: "1000", clientExtensions: { id: "sdk-mkt-1", tag: "keel" }, tradeClientExtensions: { id: "sdk-trade-1" } },
});
const fill = market.orderFillTransaction;
print("market", {
  createId: market.orderCreateTransaction.id, createType: market.orderCreateTransaction.type,
  clientId: market.orderCreateTransaction.clientExtensions?.id ?? null,
  fillId: fill.id, fillType: fill.type, orderID: fill.orderID, reason: fill.reason, units: fill.units, price: fill.price,
  tradeID: fill.tradeOpened?.tradeID ?? null, tradeUnits: fill.tradeOpened?.units ?? null,
  lastTransactionID: market.lastTransactionID,
});

const limit = await call(201, ctx.order.create.bind(ctx.order), account, {
  order: { type: "LIMIT", instrument: "EUR_USD", units: "1000", price: "1.05000", timeInForce: "GTC", clientExtensions: { id: "sdk-lim-1" } },
});
print("limit", {
  id: limit.orderCreateTransaction.id, type: limit.orderCreateTransaction.type, price: limit.orderCreateTransaction.price,
  filled: limit.orderFillTransaction !== undefined, cancelled: limit.orderCancelTransaction !== undefined,
});
const pendingBefore = await call(200, ctx.order.get.bind(ctx.order), account, limit.orderCreateTransaction.id);
print("limitState", orderOf(pendingBefore.order));

const replaced = await call(201, ctx.order.replace.bind(ctx.order), account, limit.orderCreateTransaction.id, {
  order: { type: "LIMIT", instrument: "EUR_USD", units: "1000", price: "1.06000", timeInForce: "GTC", clientExtensions: { id: "sdk-lim-1" } },
});
print("replace", {
  cancelType: replaced.orderCancelTransaction.type, cancelledOrderID: replaced.orderCancelTransaction.orderID,
  cancelReason: replaced.orderCancelTransaction.reason, replacedByOrderID: replaced.orderCancelTransaction.replacedByOrderID ?? null,
  newId: replaced.orderCreateTransaction.id, newType: replaced.orderCreateTransaction.type, newPrice: replaced.orderCreateTransaction.price,
  replacesOrderID: replaced.orderCreateTransaction.replacesOrderID ?? null,
});
const newId = replaced.orderCreateTransaction.id;

const byClientId = await call(200, ctx.order.get.bind(ctx.order), account, "@sdk-lim-1");
print("byClientId", orderOf(byClientId.order));

const pending = await call(200, ctx.order.listPending.bind(ctx.order), account);
print("pending", { orders: pending.orders.map(orderOf) });

const old = await call(200, ctx.order.get.bind(ctx.order), account, limit.orderCreateTransaction.id);
print("oldOrder", orderOf(old.order));

const cancelled = await call(200, ctx.order.cancel.bind(ctx.order), account, newId);
print("cancel", {
  type: cancelled.orderCancelTransaction.type, orderID: cancelled.orderCancelTransaction.orderID,
  clientOrderID: cancelled.orderCancelTransaction.clientOrderID ?? null, reason: cancelled.orderCancelTransaction.reason,
});
let secondCancel;
try {
  await call(200, ctx.order.cancel.bind(ctx.order), account, newId);
  secondCancel = "succeeded";
} catch (e) {
  secondCancel = /answered (\d+)/.exec(e.message)?.[1] ?? String(e);
}
print("secondCancel", { status: secondCancel });

const pendingAfter = await call(200, ctx.order.listPending.bind(ctx.order), account);
print("pendingAfterCancel", { orders: pendingAfter.orders.map(orderOf) });

const positions = await call(200, ctx.position.listOpen.bind(ctx.position), account);
print("positions", {
  positions: positions.positions.map((p) => ({ instrument: p.instrument, longUnits: p.long.units, longAveragePrice: p.long.averagePrice ?? null, shortUnits: p.short.units })),
});
const trades = await call(200, ctx.trade.listOpen.bind(ctx.trade), account);
print("openTrades", {
  trades: trades.trades.map((t) => ({ id: t.id, instrument: t.instrument, price: t.price, currentUnits: t.currentUnits, state: t.state, clientId: t.clientExtensions?.id ?? null })),
});

await price("EUR_USD", "1.10100");
const closed = await call(200, ctx.trade.close.bind(ctx.trade), account, fill.tradeOpened.tradeID, { units: "ALL" });
const closeFill = closed.orderFillTransaction;
print("closeTrade", {
  fillType: closeFill.type, reason: closeFill.reason, units: closeFill.units, price: closeFill.price, pl: closeFill.pl,
  closedTradeID: closeFill.tradesClosed?.[0]?.tradeID ?? null, closedUnits: closeFill.tradesClosed?.[0]?.units ?? null,
  accountBalance: closeFill.accountBalance,
});
const tradesAfter = await call(200, ctx.trade.listOpen.bind(ctx.trade), account);
print("openTradesAfterClose", { count: tradesAfter.trades.length });

const since = await call(200, ctx.transaction.since.bind(ctx.transaction), account, { id: firstId });
print("since", {
  transactions: since.transactions.map((t) => ({ id: t.id, type: t.type, reason: t.reason ?? null, orderID: t.orderID ?? null })),
  lastTransactionID: since.lastTransactionID,
});

// The transactions stream: open it, wait for its first heartbeat, place a market order while it listens, end the
// stream once the fill arrived. The library hands out no request object, so a second Context for the stream records
// the http.ClientRequest its request() makes (the library itself is unchanged) and the script destroys it.
const http = require("node:http");
const streamCtx = new Context(host, port, false, "keel-sandbox-test");
streamCtx.setToken(token);
let streamRequest = null;
streamCtx.http = { request: (options, callback) => (streamRequest = http.request(options, callback)) };
const seen = [];
let onHeartbeat;
let onFill;
const heartbeat = new Promise((resolve) => (onHeartbeat = resolve));
const streamFill = new Promise((resolve) => (onFill = resolve));
streamCtx.transaction.stream(account, (message) => {
  seen.push(message.type);
  if (message.type === "HEARTBEAT") onHeartbeat(message);
  if (message.type === "ORDER_FILL" && message.clientOrderID === "sdk-stream-1") onFill(message);
}, () => {});
const firstBeat = await heartbeat;
const streamed = await call(201, ctx.order.create.bind(ctx.order), account, {
  order: { type: "MARKET", instrument: "EUR_USD", units: "-500", clientExtensions: { id: "sdk-stream-1" } },
});
const streamedFill = await streamFill;
const closedStream = new Promise((resolve) => streamRequest.on("close", resolve));
streamRequest.destroy();
await closedStream;
let clients = await streamClients();
for (let i = 0; i < 100 && clients !== 0; i++) {
  await new Promise((r) => setTimeout(r, 20));
  clients = await streamClients();
}
print("stream", {
  heartbeatLastTransactionID: firstBeat.lastTransactionID,
  restFillId: streamed.orderFillTransaction.id,
  fillId: streamedFill.id, fillType: streamedFill.type, orderID: streamedFill.orderID, units: streamedFill.units, price: streamedFill.price,
  tradeID: streamedFill.tradeOpened?.tradeID ?? null,
  types: seen.filter((t) => t !== "HEARTBEAT"), streamClientsAfterEnd: clients,
});
process.exit(0); // idle keep-alive sockets would hold the process open
