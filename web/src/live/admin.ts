// The admin console's live events (GET /api/v1/admin/stream): one
// connection for every open admin page. The stream does not replay, so
// pages refetch their lists on every (re)connection (onAdminStreamOpen)
// and on each event.
import { sharedStream } from "./sse";

/** AdminEvent is one event of the admin stream. */
export interface AdminEvent {
  type: string;
  order_id?: string;
  payment_id?: string;
  fulfillment_id?: string;
  total?: number;
  currency?: string;
  at?: string;
}

const admin = sharedStream<AdminEvent>(
  "/api/v1/admin/stream",
  (ev) => {
    try {
      const v = JSON.parse(ev.data) as Partial<AdminEvent>;
      return { ...v, type: v.type ?? ev.event ?? "message" };
    } catch {
      return null;
    }
  },
  { resume: false },
);

export const subscribeAdminEvents = admin.subscribe;
export const onAdminStreamOpen = admin.onOpen;
