// The Apollo Client: queries and mutations over HTTP, subscriptions over graphql-ws.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { isSubscriptionOperation } from "@apollo/client/utilities";
import { createClient, type Client as WsClient } from "graphql-ws";
import { tap } from "rxjs";

import generated from "./generated/possible-types";
import { TaskLists, taskListPolicy } from "./task-lists";

export interface Connection {
  client: ApolloClient;
  ws: WsClient;
  /** Keeps the cached task lists right as tasks change (task-lists.ts). */
  taskLists: TaskLists;
  /** Ends the socket and the client's watches (signing in again makes a new connection). */
  close(): void;
}

export interface ConnectionEvents {
  /** Each HTTP response's X-Request-Id, with the operation it answered. */
  onRequestId(operationName: string, requestId: string | null): void;
  /** The socket's state: "connecting", "connected", or "closed <code> <reason>". */
  onSocket(state: string): void;
}

/** ws:// or wss:// for the same host, port and path as the HTTP endpoint. */
export function socketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export function connect(apiUrl: string, token: string, events: ConnectionEvents): Connection {
  const authorization = `Bearer ${token}`;

  // HTTP: the token in the Authorization header of every request (a CORS preflight asks
  // for it; the server's CORS_ORIGINS must list this page's origin).
  const http = new HttpLink({ uri: apiUrl, headers: { authorization } });

  // HttpLink puts the fetch Response in the operation's context: read the request id the
  // server answered with (readable cross-origin because the server exposes the header).
  const requestId = new ApolloLink((operation, forward) =>
    forward(operation).pipe(
      tap(() => {
        const response = operation.getContext().response as Response | undefined;
        events.onRequestId(
          operation.operationName ?? "",
          response?.headers.get("X-Request-Id") ?? null,
        );
      }),
    ),
  );

  // WebSocket (graphql-transport-ws): browsers cannot set headers on a WebSocket, so the
  // token travels in connection_init's payload. A function, so a reconnect sends the
  // current token.
  const ws = createClient({
    url: socketUrl(apiUrl),
    connectionParams: () => ({ authorization }),
    retryAttempts: 3,
    on: {
      connecting: () => events.onSocket("connecting"),
      connected: (_socket, _payload, wasRetry) => {
        events.onSocket("connected");
        // A subscription delivers only from the moment it is set up: what changed while the
        // socket was down never comes. So after a reconnection the watched queries (the task
        // list) are fetched again.
        if (wasRetry) void client.refetchQueries({ include: "active" });
      },
      closed: (event) => {
        const { code, reason } = event as CloseEvent;
        events.onSocket(`closed ${code}${reason ? ` ${reason}` : ""}`);
      },
    },
  });

  const link = ApolloLink.split(
    ({ query }) => isSubscriptionOperation(query),
    new GraphQLWsLink(ws),
    ApolloLink.from([requestId, http]),
  );

  const cache = new InMemoryCache({
    // Generated from schema.graphql (src/generated/possible-types.ts): lets the cache match
    // `... on UserError` against a NotFoundError or a ValidationError.
    possibleTypes: generated.possibleTypes,
    typePolicies: {
      Query: {
        fields: {
          // One list across pages per filter and order (relayStylePagination: fetchMore's
          // edges are appended to the cached ones), kept right by TaskLists.apply.
          tasks: taskListPolicy(),
        },
      },
    },
  });

  const client = new ApolloClient({ link, cache });
  return {
    client,
    ws,
    taskLists: new TaskLists(),
    close() {
      client.stop();
      void ws.dispose();
    },
  };
}
