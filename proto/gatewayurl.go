package pb

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ValidateGatewayURL accepts an empty URL (no gateway configured) or an
// https origin: scheme, host and optional port, nothing else, since the
// browsers' auto-selection policies match on the origin. The server
// checks its configuration with it and the agent the URL it receives,
// before it goes into a policy file or a command line.
func ValidateGatewayURL(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > 512 {
		return errors.New("longer than 512 characters")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("%q: want an https:// URL", s)
	case u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return fmt.Errorf("%q: want https://host or https://host:port, without user, path or query", s)
	case strings.ContainsAny(u.Host, "*\\\"' "):
		return fmt.Errorf("%q: the host holds a character no host name has", s)
	}
	return nil
}
