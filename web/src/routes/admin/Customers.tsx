// Placeholder: replaced by the real page.
export function CustomersAdmin() {
  return <h1>Customers</h1>;
}
