// The example frontend's Apollo Client cache, told the schema's possible types.
//
// Every mutation answers a payload union, and the operations read its errors through the
// interface: `... on UserError { code errorMessage: message }`. Apollo's cache matches a
// fragment on an interface or union only when it knows which object types belong to it;
// without `possibleTypes` it drops the fragment's fields, and a NotFoundError reaches the UI
// as `{ __typename: "NotFoundError" }` while the generated types promise `code` and
// `errorMessage`. codegen.yml generates the map (generated/fragment-matcher.ts) from
// schema.graphql, so a new payload or error type is known as soon as the schema has it.
import { InMemoryCache } from "@apollo/client";

import fragmentMatcher from "./generated/fragment-matcher";
import type { CompleteTaskMutation } from "./generated/graphql";

export function createCache(): InMemoryCache {
  return new InMemoryCache({ possibleTypes: fragmentMatcher.possibleTypes });
}

type CompleteTaskPayload = CompleteTaskMutation["setTaskStatus"];

/** What to show for a payload: its UserError's code and message, or null on success. */
export function problemOf(payload: CompleteTaskPayload): string | null {
  return payload.__typename === "SetTaskStatusSuccess"
    ? null
    : `${payload.code}: ${payload.errorMessage}`;
}
