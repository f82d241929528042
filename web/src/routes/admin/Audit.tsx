// Placeholder: replaced by the real page.
export function AuditAdmin() {
  return <h1>Audit</h1>;
}
