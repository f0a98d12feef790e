package rollout

import (
	"fmt"
	"strings"
)

// Environment variables naming the deployment and the build (worker
// --deployment-name and --build-id, starter deploy --deployment-name; the
// flags win).
const (
	DeploymentNameEnv = "VIGIL_DEPLOYMENT_NAME"
	BuildIDEnv        = "VIGIL_BUILD_ID"
)

// maxNameLen bounds a deployment name or build ID well below the server's
// limit (both go into a workflow ID of at most 1000 bytes).
const maxNameLen = 255

// CheckDeploymentName applies the server's rules for a deployment name
// (and refuses quotes, which visibility queries could not hold), so that a
// bad one fails before anything starts; flag names it in the message.
func CheckDeploymentName(flag, s string) error {
	if s == "" {
		return fmt.Errorf("%s must not be empty", flag)
	}
	return checkName(flag, s, ".:")
}

// CheckBuildID is CheckDeploymentName for a build ID.
func CheckBuildID(flag, s string) error {
	if s == "" {
		return fmt.Errorf("%s must not be empty", flag)
	}
	return checkName(flag, s, "")
}

func checkName(flag, s, forbidden string) error {
	switch {
	case len(s) > maxNameLen:
		return fmt.Errorf("%s is %d bytes long; at most %d", flag, len(s), maxNameLen)
	case strings.HasPrefix(s, "__"):
		return fmt.Errorf("%s %q: must not start with \"__\"", flag, s)
	case strings.ContainsAny(s, forbidden+`'"\ `+"\t\r\n"):
		return fmt.Errorf("%s %q: must not contain spaces, quotes, backslashes or any of %q", flag, s, forbidden)
	}
	return nil
}
