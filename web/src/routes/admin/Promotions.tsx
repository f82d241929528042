// Placeholder: replaced by the real page.
export function PromotionsAdmin() {
  return <h1>Promotions</h1>;
}
