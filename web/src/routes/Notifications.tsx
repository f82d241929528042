// Placeholder: replaced by the real bell.
export function NotificationsBell() {
  return null;
}
