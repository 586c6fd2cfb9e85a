// Every operation the page sends. `npm run codegen` reads them from here and writes typed
// documents into ./generated (the `graphql()` function returns a TypedDocumentNode).
import { graphql } from "./generated/gql";

/** Who the token says we are; the sign-in check (its X-Request-Id is shown). */
export const ViewerQuery = graphql(`
  query Viewer {
    viewer { id isAdmin }
  }
`);

/** One page of tasks, newest first; "more" passes the last endCursor as `after`. */
export const TaskPageQuery = graphql(`
  query TaskPage($first: Int!, $after: String) {
    tasks(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id title status } }
    }
  }
`);

export const CreateTaskMutation = graphql(`
  mutation CreateTask($title: String!) {
    createTask(input: { title: $title }) {
      __typename
      ... on CreateTaskSuccess { task { id title status } }
      ... on ValidationError { fields { field message } }
      ... on UserError { code message }
    }
  }
`);

/** Also the NotFoundError probe: a well-formed id of a task that does not exist. */
export const SetTaskStatusMutation = graphql(`
  mutation SetTaskStatus($id: ID!, $status: TaskStatus!) {
    setTaskStatus(input: { id: $id, status: $status }) {
      __typename
      ... on SetTaskStatusSuccess { task { id title status completedAt } }
      ... on NotFoundError { missingId }
      ... on UserError { code message }
    }
  }
`);

export const TaskEventsSubscription = graphql(`
  subscription TaskEvents {
    taskEvents { id eventType toStatus task { id title status } }
  }
`);

export const StartConversationMutation = graphql(`
  mutation StartConversation($title: String) {
    startConversation(input: { title: $title }) {
      __typename
      ... on StartConversationSuccess { conversation { id title } }
      ... on UserError { code message }
    }
  }
`);

/** The reply is deliberately not selected: it is shown when it arrives over the socket.
 * `message` is aliased in the UserError branch: SendMessageSuccess.message is a Message. */
export const SendMessageMutation = graphql(`
  mutation SendMessage($conversationId: ID!, $content: String!) {
    sendMessage(input: { conversationId: $conversationId, content: $content }) {
      __typename
      ... on SendMessageSuccess { message { id } }
      ... on UserError { code errorMessage: message }
    }
  }
`);

export const MessageAddedSubscription = graphql(`
  subscription MessageAdded($conversationId: ID!) {
    messageAdded(conversationId: $conversationId) { id role content createdAt }
  }
`);
