// Apollo Client's BatchHttpLink against a real server: two queries and a mutation, sent at
// once, go out as one HTTP request (a JSON array) and come back in order.
//   node batch-apollo.mjs <graphql url> <token>
// Prints one JSON line: how many HTTP requests the link made, and what each operation got.
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";

const [uri, token] = process.argv.slice(2);
let fetches = 0;
const countingFetch = (...args) => { fetches += 1; return fetch(...args); };
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: new BatchHttpLink({
    uri, fetch: countingFetch, batchMax: 10, batchInterval: 50,
    headers: { authorization: `Bearer ${token}` },
  }),
});
const before = client.query({
  query: gql`query CountBefore { tasks { totalCount } }`, fetchPolicy: "no-cache" });
const created = client.mutate({ mutation: gql`
  mutation CreateInBatch { createTask(input: {title: "batched"}) {
    __typename ... on CreateTaskSuccess { task { title } } } }` });
const after = client.query({
  query: gql`query CountAfter { tasks { totalCount } }`, fetchPolicy: "no-cache" });
const [b, c, a] = await Promise.all([before, created, after]);
console.log(JSON.stringify({
  kind: "done", fetches,
  before: b.data.tasks.totalCount, after: a.data.tasks.totalCount,
  created: c.data.createTask,
}));
