// Placeholder: replaced by the real page.
export function SearchInsightsAdmin() {
  return <h1>SearchInsights</h1>;
}
