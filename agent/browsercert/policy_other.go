//go:build !windows

package browsercert

// osPolicies is the managed-policy writer outside Windows: the policy
// files, which Linux browsers read. Default gives macOS none: Chrome and
// Edge there read policies only from configuration profiles
// (docs/identity.md has the payload).
func osPolicies() Policies {
	return FilePolicies{}
}
