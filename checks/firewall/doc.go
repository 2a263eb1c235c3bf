// Package firewall is the `firewall` control (Policy 550.04 C.7.a.ii): the
// host firewall is on and filters inbound traffic.
//
// On Linux it reads the live ruleset, not a configuration file: nftables
// (`nft -j list ruleset`), which also shows iptables-nft, ufw and firewalld
// rules, then iptables-save and ip6tables-save (legacy iptables or when nft
// is missing). It passes only when a base input chain drops or rejects new
// inbound traffic, for IPv4 and for IPv6 unless IPv6 is off. The ufw and
// firewalld front-ends' states are recorded as supporting facts. Windows
// and macOS collectors are not written yet and report the control as
// unknown. Parsers and collectors are portable, chosen by the host's GOOS,
// so that any OS's snapshot can be checked anywhere.
package firewall
