// The page: plain DOM. Each result goes into an element with a stable id (#status, #tasks,
// #events, #reply, #not-found-code, #request-id, #errors, ...) that people and the browser
// test (tests/test_web_client.py) read.
import type { ObservableQuery } from "@apollo/client";
import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";
import type { Subscription } from "rxjs";

import { connect, type Connection } from "./client";
import { completeTask, createTask, deleteTask } from "./task-actions";
import type {
  TaskCardFragment as TaskCard,
  TaskPageQuery as TaskPage,
  TaskPageQueryVariables,
} from "./generated/graphql";
import {
  MessageAddedSubscription,
  SendMessageMutation,
  SetTaskStatusMutation,
  StartConversationMutation,
  TaskChangesSubscription,
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
  openOnly: $<HTMLInputElement>("open-only"),
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
let taskPageWatch: Subscription | null = null;
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
  taskPageWatch?.unsubscribe();
  taskPageWatch = null;
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
  watchTaskChanges(connection);
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

// --- tasks: pages with fetchMore, merged by the cache's relayStylePagination, kept right by
// TaskLists (task-lists.ts) as tasks are created, changed and deleted here or elsewhere -------

/** The list's order: the most recently changed first, so completing a task moves it up. */
const TASK_ORDER = { field: "UPDATED_AT", direction: "DESC" } as const;

function loadTasks(current: Connection): void {
  taskPageWatch?.unsubscribe();
  const first = Math.max(1, Math.min(100, Number(ui.pageSize.value) || 10));
  const filter = ui.openOnly.checked ? { completed: false } : null;
  taskPage = current.client.watchQuery({
    query: TaskPageQuery,
    variables: { first, filter, orderBy: TASK_ORDER },
  });
  taskPageWatch = taskPage.subscribe({
    next(result) {
      if (result.error) reportError("HTTP TaskPage", result.error);
      if (result.dataState === "complete") renderTasks(result.data);
    },
    error: (error: unknown) => reportError("HTTP TaskPage", error),
  });
}

function taskItem(task: TaskCard): HTMLLIElement {
  const item = listItem("", {
    id: task.id, status: task.status, completed: String(task.completed),
  });
  const done = document.createElement("input");
  done.type = "checkbox";
  done.disabled = true; // shows `completed`; "Complete" changes it
  done.checked = task.completed;
  const title = document.createElement("span");
  title.className = "task";
  title.textContent = `${task.title} (${task.status})`;
  const buttons = (["complete", "delete"] as const).map((action) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset["action"] = action;
    button.textContent = action === "complete" ? "Complete" : "Delete";
    button.disabled = action === "complete" && task.completed;
    return button;
  });
  item.append(done, " ", title, ...buttons.flatMap((button) => [" ", button]));
  return item;
}

function renderTasks({ tasks }: TaskPage): void {
  ui.tasks.replaceChildren(...tasks.edges.map(({ node }) => taskItem(node)));
  endCursor = tasks.pageInfo.endCursor;
  ui.taskCount.textContent = `${tasks.edges.length} of ${tasks.totalCount}`;
  ui.more.disabled = !tasks.pageInfo.hasNextPage;
}

ui.openOnly.addEventListener("change", () => {
  if (connection && ui.status.dataset["viewer"]) loadTasks(connection);
});

// Each row's buttons: Complete and Delete.
ui.tasks.addEventListener("click", async (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
  const id = button?.closest("li")?.dataset["id"];
  if (!connection || !button || !id) return;
  const action = button.dataset["action"];
  button.disabled = true;
  try {
    const problem = action === "delete"
      ? await deleteTask(connection, id)
      : await completeTask(connection, id);
    if (typeof problem === "string") ui.taskResult.textContent = problem;
  } catch (error) {
    reportError(action === "delete" ? "HTTP DeleteTask" : "HTTP SetTaskStatus", error);
  }
});

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
    const task = await createTask(connection, ui.newTitle.value);
    if (typeof task === "string") {
      ui.taskResult.textContent = task;
    } else {
      createdTaskId = task.id;
      ui.created.textContent = `${task.title} (${task.status})`;
      ui.created.dataset["id"] = task.id;
      ui.created.dataset["status"] = task.status;
      ui.complete.disabled = false;
    }
  } catch (error) {
    reportError("HTTP CreateTask", error);
  }
});

ui.complete.addEventListener("click", async () => {
  if (!connection || !createdTaskId) return;
  ui.taskResult.textContent = "";
  try {
    const task = await completeTask(connection, createdTaskId);
    if (typeof task === "string") {
      ui.taskResult.textContent = task;
    } else {
      ui.created.textContent = `${task.title} (${task.status})`;
      ui.created.dataset["status"] = task.status;
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

// --- live task changes over the socket: this tab's and every other's -------------------------

function watchTaskChanges(current: Connection): void {
  subscriptions.push(
    current.client.subscribe({ query: TaskChangesSubscription }).subscribe({
      next({ data, error }) {
        if (error) reportError("WebSocket taskChanges", error);
        const change = data?.taskChanges;
        if (!change) return;
        // Apollo wrote the delivered task to the cache already; a task no longer there to
        // read (null: deleted since) is left to the DELETED change that follows.
        if (change.kind === "DELETED" || change.task) {
          current.taskLists.apply(current.client.cache, change.kind, change.nodeId);
        }
        const { event, task } = change;
        const text = event && task
          ? `${event.eventType} ${event.toStatus ?? ""} ${task.title}`
          : `${change.kind} ${change.nodeId}`;
        ui.events.append(listItem(text.replace(/ +/g, " "), {
          kind: change.kind,
          eventType: event?.eventType ?? "",
          toStatus: event?.toStatus ?? "",
          taskId: change.nodeId,
        }));
      },
      error: (error: unknown) => reportError("WebSocket taskChanges", error),
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
