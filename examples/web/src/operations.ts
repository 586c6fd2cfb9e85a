// Every operation the page sends. `npm run codegen` reads them from here and writes typed
// documents into ./generated (the `graphql()` function returns a TypedDocumentNode).
import { graphql } from "./generated/gql";

/** Who the token says we are; the sign-in check (its X-Request-Id is shown). */
export const ViewerQuery = graphql(`
  query Viewer {
    viewer { id isAdmin }
  }
`);

/** What the list renders of a task, and what its order and filter read (task-lists.ts).
 * Every mutation and subscription that changes a task answers all of it (spreads it), so
 * the cached card is never half new (tests/test_examples.py checks each one). */
export const TaskCardFragment = graphql(`
  fragment TaskCard on Task {
    id
    title
    status
    completed
    createdAt
    updatedAt
  }
`);

/** One page of a list of tasks; "more" passes the last endCursor as `after`. */
export const TaskPageQuery = graphql(`
  query TaskPage($first: Int!, $after: String, $filter: TaskFilter, $orderBy: TaskOrder) {
    tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...TaskCard } }
    }
  }
`);

export const CreateTaskMutation = graphql(`
  mutation CreateTask($title: String!) {
    createTask(input: { title: $title }) {
      __typename
      ... on CreateTaskSuccess { task { ...TaskCard } }
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
      ... on SetTaskStatusSuccess { task { ...TaskCard completedAt } }
      ... on NotFoundError { missingId }
      ... on UserError { code message }
    }
  }
`);

export const DeleteTaskMutation = graphql(`
  mutation DeleteTask($id: ID!) {
    deleteTask(input: { id: $id }) {
      __typename
      ... on DeleteTaskSuccess { deletedId }
      ... on UserError { code message }
    }
  }
`);

/** Every change to the viewer's tasks, from this tab or any other: keeps the lists right
 * (task-lists.ts) and feeds the page's log of live changes. */
export const TaskChangesSubscription = graphql(`
  subscription TaskChanges {
    taskChanges {
      kind
      nodeId
      deletedId
      task { ...TaskCard }
      event { id eventType toStatus }
    }
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
