// Placeholder: replaced by the real panel.
export function SupportChat() {
  return null;
}
