// The signed-in user's live notifications: ONE Server-Sent Events
// connection per session (GET /api/v1/notifications/stream, resumed by
// Last-Event-ID), shared by every component that listens (the bell, the
// order page's live status). See sse.ts for how it is read.
import type { components } from "../api/schema";
import { sharedStream } from "./sse";

export type Notification = components["schemas"]["notify.Notification"];
export type Listener = (n: Notification) => void;

export { parseSSE } from "./sse";

const notifications = sharedStream<Notification>("/api/v1/notifications/stream", (ev) => {
  try {
    return JSON.parse(ev.data) as Notification;
  } catch {
    return null;
  }
});

// subscribeNotifications calls listener for every notification pushed to
// the signed-in user from now on.
export function subscribeNotifications(listener: Listener): () => void {
  return notifications.subscribe(listener);
}
