// Placeholder: replaced by the real pages.
export function ForgotPasswordPage() {
  return <h1>Forgot password</h1>;
}
export function ResetPasswordPage() {
  return <h1>Reset password</h1>;
}
