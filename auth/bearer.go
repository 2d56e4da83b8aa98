package auth

import "strings"

// ParseBearer extracts the token from an Authorization header value of the
// form "Bearer <token>". The scheme is matched case-insensitively and
// surrounding whitespace is ignored. It reports false when the header uses
// another scheme or carries no token.
func ParseBearer(header string) (string, bool) {
	header = strings.TrimSpace(header)
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", false
	}
	return token, true
}
