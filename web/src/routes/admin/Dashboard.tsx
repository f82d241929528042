// Placeholder: replaced by the real page.
export function DashboardAdmin() {
  return <h1>Dashboard</h1>;
}
