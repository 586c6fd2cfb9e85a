// The page: plain DOM. Each result goes into an element with a stable id (#status, #tasks,
// #events, #reply, #not-found-code, #request-id, #errors, ...) that people and the browser
// test (tests/test_web_client.py) read.
import type { ObservableQuery } from "@apollo/client";
import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";
import type { Subscription } from "rxjs";

import { connect, type Connection } from "./client";
import type { TaskPageQuery as TaskPage, TaskPageQueryVariables } from "./generated/graphql";
import {
  CreateTaskMutation,
  MessageAddedSubscription,
  SendMessageMutation,
  SetTaskStatusMutation,
  StartConversationMutation,
  TaskEventsSubscription,
  TaskPageQuery,
  ViewerQuery,
} from "./operations";

const DEFAULT_API_URL: string = import.meta.env.VITE_API_URL ?? "http://127.0.0.1:8000/graphql";
/** A well-formed global id (base64 of `Task:<key>`) that names no task. */
const MISSING_TASK_ID = btoa("Task:999999");

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

const ui = {
  apiUrl: $<HTMLInputElement>("api-url"),
  token: $<HTMLInputElement>("token"),
  signIn: $<HTMLButtonElement>("sign-in"),
  status: $("status"),
  socket: $("socket"),
  requestId: $("request-id"),
  pageSize: $<HTMLInputElement>("page-size"),
  tasks: $("tasks"),
  taskCount: $("task-count"),
  more: $<HTMLButtonElement>("more"),
  newTitle: $<HTMLInputElement>("new-title"),
  create: $<HTMLButtonElement>("create"),
  complete: $<HTMLButtonElement>("complete"),
  created: $("created"),
  taskResult: $("task-result"),
  events: $("events"),
  notFound: $<HTMLButtonElement>("not-found"),
  notFoundCode: $("not-found-code"),
  notFoundId: $("not-found-id"),
  chatStart: $<HTMLButtonElement>("chat-start"),
  conversation: $("conversation"),
  chatInput: $<HTMLInputElement>("chat-input"),
  chatSend: $<HTMLButtonElement>("chat-send"),
  messages: $("messages"),
  reply: $("reply"),
  errors: $("errors"),
};

ui.apiUrl.value = DEFAULT_API_URL;

// --- state: one connection per sign-in; the token lives only in its closure ---------------

let connection: Connection | null = null;
// Which sign-in is current: an old connection's late events (its socket's close) are ignored.
let generation = 0;
let subscriptions: Subscription[] = [];
let taskPage: ObservableQuery<TaskPage, TaskPageQueryVariables> | null = null;
let endCursor: string | null = null;
let createdTaskId: string | null = null;
let conversationId: string | null = null;

function describe(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) {
    return error.errors
      .map((e) => `${String(e.extensions?.["code"] ?? "GRAPHQL_ERROR")}: ${e.message}`)
      .join("; ");
  }
  if (ServerError.is(error)) return `HTTP ${error.statusCode}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function reportError(where: string, error: unknown): void {
  const item = document.createElement("li");
  item.dataset["where"] = where;
  item.textContent = `${where}: ${describe(error)}`;
  ui.errors.append(item);
}

function listItem(text: string, data: Record<string, string>): HTMLLIElement {
  const item = document.createElement("li");
  item.textContent = text;
  Object.assign(item.dataset, data);
  return item;
}

function setEnabled(enabled: boolean): void {
  for (const button of [ui.create, ui.notFound, ui.chatStart]) button.disabled = !enabled;
  if (!enabled) {
    for (const button of [ui.more, ui.complete, ui.chatSend]) button.disabled = true;
  }
}

function signOut(): void {
  for (const subscription of subscriptions) subscription.unsubscribe();
  subscriptions = [];
  connection?.close();
  connection = null;
  taskPage = null;
  endCursor = null;
  createdTaskId = null;
  conversationId = null;
  for (const element of [ui.tasks, ui.events, ui.messages, ui.errors]) element.replaceChildren();
  for (const element of [
    ui.requestId, ui.taskCount, ui.created, ui.taskResult, ui.notFoundCode, ui.notFoundId,
    ui.conversation, ui.reply,
  ]) {
    element.textContent = "";
  }
  delete ui.status.dataset["viewer"];
  delete ui.requestId.dataset["operation"];
  ui.socket.textContent = "closed";
  setEnabled(false);
}

// --- sign in: the token from the text field, never from the URL, never stored --------------

async function signIn(): Promise<void> {
  signOut();
  const token = ui.token.value.trim();
  ui.token.value = ""; // kept in memory only, for this connection
  if (!token) {
    ui.status.textContent = "paste a development token first";
    return;
  }
  const mine = ++generation;
  connection = connect(ui.apiUrl.value.trim(), token, {
    onRequestId(operationName, requestId) {
      if (mine === generation && operationName === "Viewer") {
        ui.requestId.textContent = requestId ?? "(not readable: is X-Request-Id exposed?)";
        ui.requestId.dataset["operation"] = operationName;
      }
    },
    onSocket(state) {
      if (mine !== generation) return;
      ui.socket.textContent = state;
      if (state.startsWith("closed") && !state.startsWith("closed 1000")) {
        reportError("WebSocket", new Error(`the socket ${state}`));
      }
    },
  });
  ui.status.textContent = "signing in";
  // The subscription opens the socket now, alongside the HTTP sign-in check.
  watchTaskEvents(connection);
  const current = connection;
  try {
    const { data } = await current.client.query({
      query: ViewerQuery,
      fetchPolicy: "network-only",
    });
    if (mine !== generation) return; // signed in again meanwhile
    if (!data?.viewer) {
      ui.status.textContent = "not signed in (no identity)";
      return;
    }
    ui.status.textContent = `signed in as ${data.viewer.id}`;
    ui.status.dataset["viewer"] = data.viewer.id;
    setEnabled(true);
    loadTasks(current);
  } catch (error) {
    if (mine !== generation) return;
    ui.status.textContent = "sign-in failed";
    reportError("HTTP Viewer", error);
  }
}

// --- tasks: pages with fetchMore, merged by the cache's relayStylePagination ----------------

function loadTasks(current: Connection): void {
  const first = Math.max(1, Math.min(100, Number(ui.pageSize.value) || 10));
  taskPage = current.client.watchQuery({ query: TaskPageQuery, variables: { first } });
  subscriptions.push(
    taskPage.subscribe({
      next(result) {
        if (result.error) reportError("HTTP TaskPage", result.error);
        if (result.dataState === "complete") renderTasks(result.data);
      },
      error: (error: unknown) => reportError("HTTP TaskPage", error),
    }),
  );
}

function renderTasks({ tasks }: TaskPage): void {
  ui.tasks.replaceChildren(
    ...tasks.edges.map(({ node }) =>
      listItem(`${node.title} (${node.status})`, { id: node.id, status: node.status }),
    ),
  );
  endCursor = tasks.pageInfo.endCursor;
  ui.taskCount.textContent = `${tasks.edges.length} of ${tasks.totalCount}`;
  ui.more.disabled = !tasks.pageInfo.hasNextPage;
}

ui.more.addEventListener("click", async () => {
  if (!taskPage || !endCursor) return;
  ui.more.disabled = true;
  try {
    await taskPage.fetchMore({ variables: { after: endCursor } });
  } catch (error) {
    reportError("HTTP TaskPage (more)", error);
  }
});

// --- create and complete a task; payload errors through `... on UserError` ------------------

ui.create.addEventListener("click", async () => {
  if (!connection) return;
  ui.taskResult.textContent = "";
  try {
    const { data } = await connection.client.mutate({
      mutation: CreateTaskMutation,
      variables: { title: ui.newTitle.value },
    });
    const payload = data?.createTask;
    if (payload?.__typename === "CreateTaskSuccess") {
      createdTaskId = payload.task.id;
      ui.created.textContent = `${payload.task.title} (${payload.task.status})`;
      ui.created.dataset["id"] = payload.task.id;
      ui.created.dataset["status"] = payload.task.status;
      ui.complete.disabled = false;
    } else if (payload) {
      ui.taskResult.textContent = `${payload.code}: ${payload.message}`;
    }
  } catch (error) {
    reportError("HTTP CreateTask", error);
  }
});

ui.complete.addEventListener("click", async () => {
  if (!connection || !createdTaskId) return;
  ui.taskResult.textContent = "";
  try {
    const { data } = await connection.client.mutate({
      mutation: SetTaskStatusMutation,
      variables: { id: createdTaskId, status: "COMPLETED" },
    });
    const payload = data?.setTaskStatus;
    if (payload?.__typename === "SetTaskStatusSuccess") {
      ui.created.textContent = `${payload.task.title} (${payload.task.status})`;
      ui.created.dataset["status"] = payload.task.status;
    } else if (payload) {
      ui.taskResult.textContent = `${payload.code}: ${payload.message}`;
    }
  } catch (error) {
    reportError("HTTP SetTaskStatus", error);
  }
});

// --- a NotFoundError's code, readable only because the cache knows possibleTypes -----------

ui.notFound.addEventListener("click", async () => {
  if (!connection) return;
  try {
    const { data } = await connection.client.mutate({
      mutation: SetTaskStatusMutation,
      variables: { id: MISSING_TASK_ID, status: "COMPLETED" },
    });
    const payload = data?.setTaskStatus;
    if (payload?.__typename === "NotFoundError") {
      // Typed as a string, but undefined at run time if the cache lacked possibleTypes.
      ui.notFoundCode.textContent = payload.code ?? "(no code: possibleTypes missing?)";
      ui.notFoundCode.dataset["typename"] = payload.__typename;
      ui.notFoundId.textContent = payload.missingId;
    } else {
      ui.notFoundCode.textContent = `unexpected: ${payload?.__typename ?? "no data"}`;
    }
  } catch (error) {
    reportError("HTTP SetTaskStatus (missing)", error);
  }
});

// --- live task events over the socket ------------------------------------------------------

function watchTaskEvents(current: Connection): void {
  subscriptions.push(
    current.client.subscribe({ query: TaskEventsSubscription }).subscribe({
      next({ data, error }) {
        if (error) reportError("WebSocket taskEvents", error);
        const event = data?.taskEvents;
        if (!event) return;
        ui.events.append(
          listItem(`${event.eventType} ${event.toStatus ?? ""} ${event.task.title}`.trim(), {
            eventType: event.eventType,
            toStatus: event.toStatus ?? "",
            taskId: event.task.id,
          }),
        );
      },
      error: (error: unknown) => reportError("WebSocket taskEvents", error),
    }),
  );
}

// --- chat: the assistant's reply arrives over the socket (messageAdded) ---------------------

ui.chatStart.addEventListener("click", async () => {
  if (!connection) return;
  const current = connection;
  try {
    const { data } = await current.client.mutate({
      mutation: StartConversationMutation,
      variables: { title: "Example web client" },
    });
    const payload = data?.startConversation;
    if (payload?.__typename !== "StartConversationSuccess") {
      if (payload) {
        reportError("HTTP StartConversation", new Error(`${payload.code}: ${payload.message}`));
      }
      return;
    }
    conversationId = payload.conversation.id;
    ui.conversation.textContent = payload.conversation.title ?? conversationId;
    ui.conversation.dataset["id"] = conversationId;
    ui.chatStart.disabled = true;
    subscriptions.push(
      current.client
        .subscribe({ query: MessageAddedSubscription, variables: { conversationId } })
        .subscribe({
          next({ data: added, error }) {
            if (error) reportError("WebSocket messageAdded", error);
            const message = added?.messageAdded;
            if (!message) return;
            const text = `${message.role}: ${message.content}`;
            ui.messages.append(listItem(text, { id: message.id, role: message.role }));
            if (message.role === "ASSISTANT") ui.reply.textContent = message.content;
          },
          error: (error: unknown) => reportError("WebSocket messageAdded", error),
        }),
    );
    ui.chatSend.disabled = false;
  } catch (error) {
    reportError("HTTP StartConversation", error);
  }
});

ui.chatSend.addEventListener("click", async () => {
  if (!connection || !conversationId) return;
  try {
    const { data } = await connection.client.mutate({
      mutation: SendMessageMutation,
      variables: { conversationId, content: ui.chatInput.value },
    });
    const payload = data?.sendMessage;
    if (payload && payload.__typename !== "SendMessageSuccess") {
      reportError("HTTP SendMessage", new Error(`${payload.code}: ${payload.errorMessage}`));
    }
  } catch (error) {
    reportError("HTTP SendMessage", error);
  }
});

ui.signIn.addEventListener("click", () => void signIn());
setEnabled(false);
