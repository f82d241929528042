// Placeholder: replaced by the real page.
export function ProductAdmin() {
  return <h1>Product</h1>;
}
