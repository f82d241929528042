// Placeholder: replaced by the real page.
export function CheckoutPage() {
  return <h1>Checkout</h1>;
}
