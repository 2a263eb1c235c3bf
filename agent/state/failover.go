package state

import (
	"fmt"
	"net"
	"slices"

	pb "github.com/postern-dev/postern/proto"
)

// MaxServers bounds the replica list a server may hand an agent.
const MaxServers = 16

// ServerList is where the agent may report: the address it enrolled with,
// then the replicas the server named, without duplicates.
func (id Identity) ServerList() []string {
	out := []string{id.Server}
	for _, s := range id.Servers {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// ValidServers keeps the entries of a server's replica list that are
// host:port, at most MaxServers; the rest are dropped, with an error
// saying which.
func ValidServers(list []string) ([]string, error) {
	var out []string
	var bad []string
	for _, s := range list {
		if host, port, err := net.SplitHostPort(s); err != nil || host == "" || port == "" {
			bad = append(bad, s)
			continue
		}
		if len(out) < MaxServers && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("replica addresses that are not host:port were ignored: %q", bad)
	}
	return out, nil
}

// SaveServers records a new replica list in identity.json; it does
// nothing when the list is unchanged.
func (d *Dir) SaveServers(servers []string) error {
	id, err := d.LoadIdentity()
	if err != nil {
		return err
	}
	if slices.Equal(id.Servers, servers) {
		return nil
	}
	id.Servers = servers
	return d.saveIdentity(id)
}

// SaveGatewayURL records the gateway URL a server's Hello named (empty:
// none configured) in identity.json, after checking it is an https
// origin. It reports whether it changed.
func (d *Dir) SaveGatewayURL(url string) (bool, error) {
	if err := pb.ValidateGatewayURL(url); err != nil {
		return false, fmt.Errorf("gateway URL from the server: %w", err)
	}
	id, err := d.LoadIdentity()
	if err != nil {
		return false, err
	}
	if id.GatewayURL == url {
		return false, nil
	}
	id.GatewayURL = url
	return true, d.saveIdentity(id)
}
