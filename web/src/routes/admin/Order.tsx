// Placeholder: replaced by the real page.
export function OrderAdmin() {
  return <h1>Order</h1>;
}
