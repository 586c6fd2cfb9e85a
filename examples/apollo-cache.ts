// The example frontend's Apollo Client cache, told the schema's possible types.
//
// Every mutation answers a payload union, and the operations read its errors through the
// interface: `... on UserError { code errorMessage: message }`. Apollo's cache matches a
// fragment on an interface or union only when it knows which object types belong to it;
// without `possibleTypes` it drops the fragment's fields, and a NotFoundError reaches the UI
// as `{ __typename: "NotFoundError" }` while the generated types promise `code` and
// `errorMessage`. codegen.yml generates the map (generated/fragment-matcher.ts) from
// schema.graphql, so a new payload or error type is known as soon as the schema has it.
//
// The mutations and subscriptions answer what the views render (tests/test_examples.py), so
// the cache merges a changed object whole. Which lists a created, moved or deleted task
// belongs to is the client's to say: examples/web/src/task-lists.ts does it for `tasks` with
// cache.modify, on this same relayStylePagination policy.
import { InMemoryCache } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";

import fragmentMatcher from "./generated/fragment-matcher";
import type { CompleteTaskMutation } from "./generated/graphql";

export function createCache(): InMemoryCache {
  return new InMemoryCache({
    possibleTypes: fragmentMatcher.possibleTypes,
    typePolicies: {
      Query: {
        fields: {
          // One cached list per filter and order; fetchMore's pages are appended to it.
          tasks: relayStylePagination(["filter", "orderBy"]),
          conversations: relayStylePagination(["filter", "orderBy"]),
          panicEvents: relayStylePagination(["filter", "orderBy"]),
          auditLogs: relayStylePagination(["filter", "orderBy"]),
        },
      },
      // ChatHistory pages backward (`last`, `before`): the older messages are prepended.
      Conversation: { fields: { messages: relayStylePagination(["filter", "orderBy"]) } },
    },
  });
}

type CompleteTaskPayload = CompleteTaskMutation["setTaskStatus"];

/** What to show for a payload: its UserError's code and message, or null on success. */
export function problemOf(payload: CompleteTaskPayload): string | null {
  return payload.__typename === "SetTaskStatusSuccess"
    ? null
    : `${payload.code}: ${payload.errorMessage}`;
}
