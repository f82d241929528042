// Placeholder: replaced by the real page.
export function FulfillmentsAdmin() {
  return <h1>Fulfillments</h1>;
}
