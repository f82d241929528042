// Placeholder: replaced by the real page.
export function OrdersPage() {
  return <h1>Orders</h1>;
}
