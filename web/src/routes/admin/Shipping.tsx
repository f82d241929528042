// Placeholder: replaced by the real page.
export function ShippingAdmin() {
  return <h1>Shipping</h1>;
}
