// Package firewall is the `firewall` control (Policy 550.04 C.7.a.ii): the
// host firewall is on and filters inbound traffic.
//
// On Linux it reads the live ruleset, not a configuration file: nftables
// (`nft -j list ruleset`), which also shows iptables-nft, ufw and firewalld
// rules, then iptables-save and ip6tables-save (legacy iptables or when nft
// is missing). It passes only when a base input chain drops or rejects new
// inbound traffic, for IPv4 and for IPv6 unless IPv6 is off. The ufw and
// firewalld front-ends' states are recorded as supporting facts.
//
// On Windows every active profile (from MSFT_NetConnectionProfile; all
// three when that cannot be read) must be on and block unsolicited
// inbound traffic. Each profile is read from group policy (which wins), an
// MDM's Firewall CSP store (FirewallPolicy\Mdm, next) and the local
// firewall policy in the registry, the local value confirmed by
// MSFT_NetFirewallProfile; the mpssvc service must be running. A
// third-party firewall that Windows Security Center reports on, and whose
// program is still installed, also passes, with a caveat that Security
// Center's state may be stale.
//
// On macOS the Application Firewall must be on: a managed profile
// (com.apple.security.firewall EnableFirewall) wins over socketfilterfw's
// global state, which wins over com.apple.alf.plist (gone in macOS 15).
// pf enabled with a `block in all` rule passes too.
//
// Parsers and collectors are portable, chosen by the host's GOOS, so that
// any OS's snapshot can be checked anywhere.
package firewall
