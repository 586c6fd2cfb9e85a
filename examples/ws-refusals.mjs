// graphql-transport-ws as the `graphql-ws` client speaks it: two live subscriptions keep
// receiving after refused operations on the same socket.
//   node ws-refusals.mjs <ws url> <token> <refused operation>...
// Prints one JSON line per event ({op, kind, ...}); each refused operation must end in an
// `error` whose codes are printed, the two subscriptions must stay open. The test (Python)
// creates tasks over HTTP once it reads "ready", and reads what the subscriptions got.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import readline from "node:readline";

const [url, token, ...refused] = process.argv.slice(2);
const print = (line) => console.log(JSON.stringify(line));
let closed = null;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
  lazy: false,
  on: { closed: (event) => { closed = { code: event.code, reason: event.reason }; print({ kind: "closed", ...closed }); } },
});

const LIVE = "subscription Live { taskEvents { eventType task { title } } }";
for (const op of ["a", "b"]) {
  client.subscribe({ query: LIVE }, {
    next: (result) => print({ op, kind: "next", title: result.data?.taskEvents?.task?.title ?? null }),
    error: (error) => print({ op, kind: "error", error: String(error?.message ?? error) }),
    complete: () => print({ op, kind: "complete" }),
  });
}

const settled = refused.map((text, index) => new Promise((resolve) => {
  client.subscribe(JSON.parse(text), {
    next: (result) => { print({ op: `refused-${index}`, kind: "next", result }); },
    error: (errors) => {
      const list = Array.isArray(errors) ? errors : [errors];
      print({ op: `refused-${index}`, kind: "error",
              codes: list.map((e) => e?.extensions?.code ?? null),
              messages: list.map((e) => e?.message ?? String(e)) });
      resolve();
    },
    complete: () => { print({ op: `refused-${index}`, kind: "complete" }); resolve(); },
  });
}));
await Promise.all(settled);
// One round trip more, so the two subscriptions are surely listening before "ready".
await new Promise((resolve) => {
  client.subscribe({ query: "{ viewer { id } }" }, { next: () => {}, error: resolve, complete: resolve });
});
print({ kind: "ready" });

// The test tells us when to stop (a line on stdin), then we close cleanly.
const input = readline.createInterface({ input: process.stdin });
input.once("line", async () => {
  await client.dispose();
  process.exit(closed && closed.code !== 1000 ? 1 : 0);
});
