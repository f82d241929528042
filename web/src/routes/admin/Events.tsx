// Placeholder: replaced by the real page.
export function EventsAdmin() {
  return <h1>Events</h1>;
}
