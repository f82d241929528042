package mail

import "crypto/tls"

// insecureTLS is for test servers with self-signed certificates, enabled
// only by ?insecure_skip_verify=true in SMTP_URL.
func insecureTLS(host string) *tls.Config {
	return &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} //nolint:gosec // opt-in for tests
}
