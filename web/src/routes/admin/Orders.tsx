// Placeholder: replaced by the real page.
export function OrdersAdmin() {
  return <h1>Orders</h1>;
}
