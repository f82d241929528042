package acceptance

import "encoding/base64"

func encodeB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
