package api

import "net/url"

// redactURL drops credentials and the query from a URL before it is
// logged: receivers sometimes carry tokens there.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
