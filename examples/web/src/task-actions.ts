// The page's task mutations. Each `update` function hands its change to TaskLists, which puts
// it into every cached list at once (the same change arrives again over taskChanges, and is
// then found done). Each answers the task, or a payload error as `code: message`.
import type { Connection } from "./client";
import type { TaskCardFragment as TaskCard } from "./generated/graphql";
import { CreateTaskMutation, DeleteTaskMutation, SetTaskStatusMutation } from "./operations";

export async function createTask(current: Connection, title: string): Promise<TaskCard | string> {
  const { data } = await current.client.mutate({
    mutation: CreateTaskMutation,
    variables: { title },
    update(cache, { data: answer }) {
      if (answer?.createTask.__typename === "CreateTaskSuccess") {
        current.taskLists.apply(cache, "CREATED", answer.createTask.task.id);
      }
    },
  });
  const payload = data?.createTask;
  if (payload?.__typename === "CreateTaskSuccess") return payload.task;
  return payload ? `${payload.code}: ${payload.message}` : "no data";
}

export async function completeTask(current: Connection, id: string): Promise<TaskCard | string> {
  const { data } = await current.client.mutate({
    mutation: SetTaskStatusMutation,
    variables: { id, status: "COMPLETED" },
    update(cache, { data: answer }) {
      if (answer?.setTaskStatus.__typename === "SetTaskStatusSuccess") {
        current.taskLists.apply(cache, "UPDATED", answer.setTaskStatus.task.id);
      }
    },
  });
  const payload = data?.setTaskStatus;
  if (payload?.__typename === "SetTaskStatusSuccess") return payload.task;
  return payload ? `${payload.code}: ${payload.message}` : "no data";
}

/** Null once deleted. */
export async function deleteTask(current: Connection, id: string): Promise<string | null> {
  const { data } = await current.client.mutate({
    mutation: DeleteTaskMutation,
    variables: { id },
    update(cache, { data: answer }) {
      if (answer?.deleteTask.__typename === "DeleteTaskSuccess") {
        current.taskLists.apply(cache, "DELETED", answer.deleteTask.deletedId);
      }
    },
  });
  const payload = data?.deleteTask;
  if (payload?.__typename === "DeleteTaskSuccess") return null;
  return payload ? `${payload.code}: ${payload.message}` : "no data";
}
