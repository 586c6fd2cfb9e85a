// Every cached `tasks` list kept right as tasks are created, changed and deleted, here or in
// another tab, with Apollo's documented cache APIs: a field policy built on
// relayStylePagination, cache.modify on the lists, cache.evict and cache.gc on a deleted task.
//
// A change arrives twice in the tab that made it: as its mutation's result (an `update`
// function) and as a `taskChanges` delivery over the socket, in either order; another tab's
// change arrives once, as the delivery. Both are written to the cache before `apply` runs
// (Apollo writes a result, then calls `update` or hands the delivery on), so `apply` reads the
// task as it is now and only has to fix each list: where the task goes in the list's order,
// whether it belongs to the list's filter, and `totalCount`. Each change is applied once:
// a creation or a deletion once per task id, an update once per version of the task (its
// updatedAt), so the second arrival of a change finds it done.
import type { ApolloCache, FieldPolicy, Reference } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";

import type { ChangeKind, TaskFilter, TaskOrder, TaskStatus } from "./generated/graphql";
import { TaskCardFragment } from "./operations";

/** What a list was asked for: its key arguments (`relayStylePagination(["filter", "orderBy"])`). */
interface ListArgs {
  filter: TaskFilter | null;
  orderBy: TaskOrder | null;
}

/** An edge, stored inline in its list (TaskEdge has no id, so it is not normalized). */
interface StoredEdge {
  cursor?: string;
  node: Reference;
}

/** A list as relayStylePagination stores it: its edges, pageInfo and extra fields (totalCount). */
interface StoredList {
  edges: StoredEdge[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string };
  totalCount?: number;
}

type ReadField = <T>(fieldName: string, from: Reference) => T | undefined;

/**
 * relayStylePagination, which also notes each list's filter and order in the field's
 * `storage` (the object Apollo hands both this merge function and cache.modify's modifier for
 * the same list): a modifier is told the list's store key, not its arguments.
 */
export function taskListPolicy(): FieldPolicy {
  const relay = relayStylePagination<Reference>(["filter", "orderBy"]);
  const merge = relay.merge;
  if (typeof merge !== "function") throw new Error("relayStylePagination has no merge function");
  return {
    ...(relay as FieldPolicy),
    merge(existing, incoming, options) {
      const args = options.args ?? {};
      const list: ListArgs = {
        filter: (args["filter"] as TaskFilter | null | undefined) ?? null,
        orderBy: (args["orderBy"] as TaskOrder | null | undefined) ?? null,
      };
      options.storage["list"] = list;
      return merge(existing, incoming, options);
    },
  };
}

/** A set that forgets its oldest entries past `limit`: memory stays bounded however long the
 * page stays open. A duplicate arrives within moments of its original (the mutation's answer
 * and its delivery), never 1,000 changes later. */
class RecentSet {
  private readonly entries = new Set<string>();
  constructor(private readonly limit: number) {}

  /** False if `key` was already there; else remembers it. */
  add(key: string): boolean {
    if (this.entries.has(key)) return false;
    this.entries.add(key);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.values().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return true;
  }
}

export class TaskLists {
  private readonly applied = new RecentSet(1000);

  /**
   * One change to the task `id` (its fields already in `cache`): every cached tasks list gets
   * it in or out, at its place in the list's order, with totalCount moved to match. A list that
   * cannot tell (a filter the client cannot evaluate, a task outside the loaded pages whose
   * membership before the change is unknown) is dropped from the cache, so its query fetches
   * it again.
   */
  apply(cache: ApolloCache, kind: ChangeKind, id: string): void {
    const ref = cache.identify({ __typename: "Task", id });
    if (!ref) return;
    if (kind === "DELETED") {
      if (!this.applied.add(`DELETED ${id}`)) return;
    } else {
      const task = cache.readFragment({ id: ref, fragment: TaskCardFragment });
      if (!task) return; // not in the cache: nothing to place (a DELETED change follows)
      // A creation is counted once; the lists then show this version of the task, as they
      // do after an update to it.
      const created = kind === "CREATED" && this.applied.add(`CREATED ${id}`);
      const newVersion = this.applied.add(`UPDATED ${id} ${task.updatedAt}`);
      if (!created && (kind === "CREATED" || !newVersion)) return;
    }
    cache.modify({
      fields: {
        tasks: (value, { isReference, readField, storage, DELETE }) => {
          if (isReference(value)) return value; // a TaskConnection is never normalized
          const list = storage["list"] as ListArgs | undefined;
          const existing = value as StoredList;
          const updated = list && updateList(existing, list, kind, ref, readField as ReadField);
          return updated ?? DELETE;
        },
      },
    });
    if (kind === "DELETED") {
      cache.evict({ id: ref });
      cache.gc();
    }
  }
}

/** The list after the change, or null when it cannot be told without asking the server. */
function updateList(
  existing: StoredList, list: ListArgs, kind: ChangeKind, ref: string, readField: ReadField,
): StoredList | null {
  const at = existing.edges.findIndex((edge) => edge.node.__ref === ref);
  const loadedAll = !existing.pageInfo.hasNextPage && !existing.pageInfo.hasPreviousPage;
  // Was it counted before? A created task was not; one shown was; with every page loaded, one
  // not shown was not; unfiltered, every task of the viewer was; else nobody here knows.
  const wasIn = kind === "CREATED" ? false
    : at >= 0 ? true
    : loadedAll ? false
    : list.filter === null ? true
    : null;
  const task = { __ref: ref };
  const isIn = kind === "DELETED" ? false : matches(list.filter, task, readField);
  if (wasIn === null || isIn === null) return null;

  const edges = existing.edges.filter((_, index) => index !== at);
  if (isIn) {
    const place = placeOf(list.orderBy, task, edges, readField);
    if (place === null) return null;
    // Past the loaded pages it is left for fetchMore to bring, where the server has it.
    if (place < edges.length || !existing.pageInfo.hasNextPage) {
      // A moved edge's cursor named its old place: "" makes relayStylePagination take the
      // list's end cursor from pageInfo (the server's) and not match it to this edge.
      const kept = at >= 0 ? existing.edges[at] : undefined;
      edges.splice(place, 0, kept && place === at ? kept : { cursor: "", node: task });
    }
  }
  const totalCount = (existing.totalCount ?? 0) + Number(isIn) - Number(wasIn);
  return { ...existing, edges, totalCount };
}

/** Whether the task belongs to a list of this filter; null when only the server can tell
 * (search folds case as the server does, dates and kind are not on the card). */
function matches(filter: TaskFilter | null, task: Reference, readField: ReadField): boolean | null {
  if (filter === null) return true;
  const { status, completed, ...others } = filter;
  if (Object.values(others).some((value) => value !== null && value !== undefined)) return null;
  const current = readField<TaskStatus>("status", task);
  if (status && (current === undefined || !status.includes(current))) return false;
  if (completed !== null && completed !== undefined) {
    return readField<boolean>("completed", task) === completed;
  }
  return true;
}

/** The index before which the task goes in the list's order; null for an order the client
 * cannot reproduce (TITLE folds case as the server does; STATUS ties are broken by ids). */
function placeOf(
  orderBy: TaskOrder | null, task: Reference, edges: StoredEdge[], readField: ReadField,
): number | null {
  const field = orderBy?.field ?? "CREATED_AT";
  const descending = (orderBy?.direction ?? "DESC") === "DESC";
  if (field !== "CREATED_AT" && field !== "UPDATED_AT") return null;
  const name = field === "CREATED_AT" ? "createdAt" : "updatedAt";
  const key = (ref: Reference): number => microseconds(readField<string>(name, ref) ?? "");
  const mine = key(task);
  if (Number.isNaN(mine)) return null;
  const place = edges.findIndex((edge) => {
    const other = key(edge.node);
    return descending ? mine >= other : mine <= other;
  });
  return place < 0 ? edges.length : place;
}

/** An ISO 8601 instant in microseconds since 1970 (the server's precision; Date keeps
 * milliseconds); NaN for anything else. */
function microseconds(instant: string): number {
  const fraction = /\.(\d+)/.exec(instant)?.[1] ?? "";
  const whole = Date.parse(instant.replace(/\.\d+/, ""));
  return whole * 1000 + Number(fraction.padEnd(6, "0").slice(0, 6));
}
