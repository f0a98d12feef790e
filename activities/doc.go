// Package activities holds vigil's activities: one struct per external
// system, holding narrow interfaces over the SDK clients it uses, with an
// Input and a Result struct per activity. Errors are sorted here: retryable
// errors are returned as they are, permanent ones as non-retryable
// application errors with a stable type (see errors.go).
package activities
