// graphql-sse (distinct connections mode) as the `graphql-sse` client speaks it: two live
// subscriptions and a query, beside refused operations, each on its own event stream.
//   node sse-client.mjs <graphql url> <token> <refused operation as JSON {query, operationName}>...
// Prints one JSON line per event ({op, kind, ...}); "ready" once the query answered and every
// refused operation was told its errors. The test (Python) then creates tasks over HTTP and
// reads what the subscriptions got; a line on stdin ends the script.
import { createClient } from "graphql-sse";
import readline from "node:readline";

const [url, token, ...refused] = process.argv.slice(2);
const print = (line) => console.log(JSON.stringify(line));
const client = createClient({
  url,
  headers: () => ({ authorization: `Bearer ${token}` }),
  retryAttempts: 0,
});

const codes = (result) => (result.errors ?? []).map((e) => e?.extensions?.code ?? null);
const LIVE = "subscription Live { taskEvents { eventType task { title } } }";
const listening = [];
for (const op of ["a", "b"]) {
  let connected;
  listening.push(new Promise((resolve) => { connected = resolve; }));
  client.subscribe({ query: LIVE }, {
    next: (result) => print({ op, kind: "next", title: result.data?.taskEvents?.task?.title ?? null,
                              codes: codes(result) }),
    error: (error) => print({ op, kind: "error", error: String(error?.message ?? error) }),
    complete: () => print({ op, kind: "complete" }),
  }, { connected: () => connected() });  // the response's headers: the server listens
}

const run = (op, request) => new Promise((resolve) => {
  client.subscribe(request, {
    next: (result) => print({ op, kind: "next", codes: codes(result), data: result.data ?? null,
                              messages: (result.errors ?? []).map((e) => e.message) }),
    error: (error) => { print({ op, kind: "error", error: String(error?.message ?? error) }); resolve(); },
    complete: () => { print({ op, kind: "complete" }); resolve(); },
  });
});
await Promise.all([
  ...listening,
  run("query", { query: "query Me { viewer { id } }" }),
  ...refused.map((text, index) => run(`refused-${index}`, JSON.parse(text))),
]);
print({ kind: "ready" });

const input = readline.createInterface({ input: process.stdin });
input.once("line", () => {
  client.dispose();
  process.exit(0);
});
