package codec

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// AnyOrigin in ServerOptions.Origins lets any page call the codec server,
// without credentials: Access-Control-Allow-Credentials is never sent then.
const AnyOrigin = "*"

// ServerOptions configure the remote codec endpoint.
type ServerOptions struct {
	// Origins allowed by CORS (the Web UI's address, e.g.
	// http://127.0.0.1:8233); AnyOrigin allows any page, without
	// credentials. Empty allows none: only
	// same-origin and non-browser clients (temporal CLI --codec-endpoint).
	Origins []string
	// AuthToken, when set, is required as "Authorization: Bearer TOKEN"
	// (the UI's "include cross-origin credentials" sends the user's token;
	// the CLI has --codec-auth).
	AuthToken string
}

// Handler serves POST /encode and /decode (any path prefix, as the
// Temporal remote codec protocol wants: {"payloads":[...]} in and out)
// with the CORS headers the Web UI needs, and an optional bearer-token
// check. GET /health answers 200 for container health checks.
func Handler(c *Codec, opts ServerOptions) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && allowed(opts.Origins, origin) {
			h := w.Header()
			if slices.Contains(opts.Origins, AnyOrigin) {
				// Any page may call: never with the browser's credentials.
				h.Set("Access-Control-Allow-Origin", AnyOrigin)
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
			h.Add("Vary", "Origin")
		}
		switch {
		case r.Method == http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
			return
		case r.Method == http.MethodGet && r.URL.Path == "/health":
			w.WriteHeader(http.StatusOK)
			return
		}
		if opts.AuthToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(opts.AuthToken)) != 1 {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
}

func allowed(origins []string, origin string) bool {
	return slices.Contains(origins, AnyOrigin) || slices.Contains(origins, origin)
}
