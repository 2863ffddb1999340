// Drives the Keel sandbox's Alpaca Trading API with Alpaca's official Node client (@alpacahq/alpaca-trade-api 4.x),
// changing nothing but the host (Configuration.basePath). Usage: node client.mjs http://127.0.0.1:PORT KEY SECRET
// Prints one JSON object with what the client saw; the C# test asserts on it.
import { trading } from "@alpacahq/alpaca-trade-api";

const [base, keyId, secret] = process.argv.slice(2);
const config = new trading.Configuration({ basePath: base, keyId, secret });
const orders = new trading.OrdersApi(config);
const positions = new trading.PositionsApi(config);
const accounts = new trading.AccountsApi(config);

// Scripted prices are a sandbox control, not part of Alpaca's API: plain fetch.
async function price(symbol, p) {
  const r = await fetch(`${base}/_sandbox/alpaca/prices`, { method: "POST", body: JSON.stringify({ symbol, prices: [p] }) });
  if (!r.ok) throw new Error(`scripting a price answered ${r.status}`);
}

const pick = (o) => ({ id: o.id, clientOrderId: o.clientOrderId, status: o.status, qty: String(o.qty), limitPrice: o.limitPrice == null ? null : String(o.limitPrice), filledQty: String(o.filledQty), filledAvgPrice: o.filledAvgPrice == null ? null : String(o.filledAvgPrice), replaces: o.replaces ?? null });

const out = {};
await price("AAPL", "100");
const placed = await orders.postOrder({ postOrderRequest: { symbol: "AAPL", qty: "2", side: "buy", type: "limit", timeInForce: "gtc", limitPrice: "90", clientOrderId: "sdk-limit-1" } });
out.placed = pick(placed);
out.byClientId = pick(await orders.getOrderByClientOrderId({ clientOrderId: "sdk-limit-1" }));
const replaced = await orders.patchOrderByOrderId({ orderId: placed.id, patchOrderRequest: { limitPrice: "95", clientOrderId: "sdk-limit-1-r1" } });
out.replaced = pick(replaced);
out.old = pick(await orders.getOrderByOrderID({ orderId: placed.id }));
await orders.deleteOrderByOrderID({ orderId: replaced.id });
out.canceled = pick(await orders.getOrderByOrderID({ orderId: replaced.id }));
try {
  await orders.deleteOrderByOrderID({ orderId: replaced.id });
  out.secondCancel = "succeeded";
} catch (e) {
  out.secondCancel = e?.status ?? e?.response?.status ?? String(e);
}

const market = await orders.postOrder({ postOrderRequest: { symbol: "AAPL", qty: "3", side: "buy", type: "market", timeInForce: "day", clientOrderId: "sdk-market-1" } });
await price("AAPL", "101.25");
out.market = pick(await orders.getOrderByOrderID({ orderId: market.id }));
const open = await positions.getAllOpenPositions();
out.positions = open.map((p) => ({ symbol: p.symbol, qty: String(p.qty), side: p.side, avgEntryPrice: String(p.avgEntryPrice) }));
const all = await orders.getAllOrders({ status: "all", direction: "asc" });
out.allOrders = all.map((o) => o.clientOrderId);
const account = await accounts.getAccount();
out.account = { cash: String(account.cash), status: account.status };
console.log(JSON.stringify(out));
process.exit(0); // idle keep-alive sockets would hold the process open
