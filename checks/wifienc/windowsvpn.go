package wifienc

import (
	"context"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// The built-in VPN client's profiles (Get-VpnConnection reads the same
// class). The agent runs as SYSTEM, so the all-user phone book is
// visible; a profile only one user created may not be, and then the
// connection is named by its interface alias alone.
const (
	vpnClientNamespace = `root\Microsoft\Windows\RemoteAccess\Client`
	vpnConnectionQuery = `SELECT Name, TunnelType, ConnectionStatus, AllUserConnection FROM PS_VpnConnection`
)

// rasKinds maps a built-in VPN profile's TunnelType (VpnConnection class:
// Pptp, L2tp, Sstp, Ikev2, Automatic) to the tunnel kind. "Automatic"
// tries IKEv2, SSTP, L2TP and PPTP in turn and does not say which one
// connected, so it stays an unidentified vpn.
var rasKinds = map[string]string{
	"ikev2":     KindIPsec,
	"sstp":      KindSSTP,
	"l2tp":      KindL2TP,
	"pptp":      KindPPTP,
	"automatic": KindVPN,
}

// rasProfile is the part of a VpnConnection row the verdict needs.
type rasProfile struct {
	name, tunnelType, status string
}

// winVPNProfiles looks up built-in VPN profiles once per collection.
type winVPNProfiles struct {
	ctx  context.Context
	h    host.Host
	f    *Facts
	read bool
	rows []rasProfile
}

func (w *winVPNProfiles) byName(name string) (rasProfile, bool) {
	if !w.read {
		w.read = true
		ctx, cancel := context.WithTimeout(w.ctx, host.DefaultCommandTimeout)
		defer cancel()
		rows, err := w.h.WMI(ctx, vpnClientNamespace, vpnConnectionQuery)
		if err != nil {
			w.f.Notes = append(w.f.Notes, "the built-in VPN profiles could not be read (PS_VpnConnection): "+err.Error())
		}
		for _, r := range rows {
			w.rows = append(w.rows, rasProfile{name: wmiString(r, "Name"), tunnelType: wmiString(r, "TunnelType"), status: wmiString(r, "ConnectionStatus")})
		}
	}
	for _, p := range w.rows {
		if strings.EqualFold(p.name, name) {
			return p, true
		}
	}
	return rasProfile{}, false
}

// rasTunnel names a connection of the built-in VPN client (RAS): its
// interface alias is the profile's name, its type comes from the profile.
// via says how the interface was recognised as a RAS connection.
func (w *winVPNProfiles) rasTunnel(alias, via string) *Tunnel {
	p, ok := w.byName(alias)
	if !ok {
		return nil
	}
	kind, known := rasKinds[strings.ToLower(p.tunnelType)]
	if !known {
		kind = KindVPN
	}
	src := via + "; built-in VPN profile (PS_VpnConnection) TunnelType " + strconv.Quote(p.tunnelType)
	if p.status != "" {
		src += ", ConnectionStatus " + p.status
	}
	return &Tunnel{Interface: alias, Kind: kind, Name: p.name, Source: src}
}
