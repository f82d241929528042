// Placeholder: replaced by the real page.
export function ProductsAdmin() {
  return <h1>Products</h1>;
}
