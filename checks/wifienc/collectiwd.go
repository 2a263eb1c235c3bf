package wifienc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// iwd's D-Bus names (iwd's doc/station-api.txt, network-api.txt,
// station-diagnostic-api.txt).
const (
	iwdService         = "net.connman.iwd"
	iwdStationIface    = "net.connman.iwd.Station"
	iwdDiagnosticIface = "net.connman.iwd.StationDiagnostic"
	iwdNetworkIface    = "net.connman.iwd.Network"
)

// iwdDevicePath is the object iwd exports for a wireless interface:
// /net/connman/iwd/<wiphy index>/<interface index> (wiphy_get_path and
// netdev_get_path in iwd's sources). Building it from sysfs avoids
// listing iwd's objects, whose paths and properties carry network names.
func iwdDevicePath(h host.Host, ifname string) (string, error) {
	var idx [2]int
	for i, p := range []string{sysNet + ifname + "/phy80211/index", sysNet + ifname + "/ifindex"} {
		b, err := h.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("find the interface's iwd object: %w", err)
		}
		if idx[i], err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return "", fmt.Errorf("find the interface's iwd object: %s holds %q", p, strings.TrimSpace(string(b)))
		}
	}
	return fmt.Sprintf("/net/connman/iwd/%d/%d", idx[0], idx[1]), nil
}

// iwdLink asks iwd (when it, not wpa_supplicant, drives the radio) for the
// station's state and the negotiated security. GetDiagnostics names the
// AKM (WPA1/2/3, OWE) but has none for open and WEP networks; the
// connected network's Type decides those. The connected network's object
// path encodes its name in hex, so it is read only for that fallback,
// used as an argument and never put in the facts.
func iwdLink(ctx context.Context, h host.Host, l *Link) error {
	dev, err := iwdDevicePath(h, l.Interface)
	if err != nil {
		return err
	}
	out, err := run(ctx, h, busctlPaths, "--json=short", "get-property", iwdService, dev, iwdStationIface, "State")
	if err != nil {
		return iwdError(err)
	}
	st, err := busctlStrings(out.Stdout, "s")
	if err != nil {
		return err
	}
	l.Source = "iwd D-Bus Station.State"
	switch st[0] {
	case "connected", "roaming", "ft-roaming":
	default:
		l.Connected = false
		l.Source += " " + st[0]
		return nil
	}
	l.Connected = true
	diagErr := iwdDiagnostics(ctx, h, dev, l)
	if diagErr == nil {
		return nil
	}
	// Open and WEP networks have no AKM, hence no Security diagnostic.
	typ, err := iwdConnectedType(ctx, h, dev)
	if err != nil {
		l.UnknownReason = "iwd: " + diagErr.Error() + "; the connected network's Type could not be read: " + err.Error()
		return nil
	}
	l.Detail = "Type=" + typ
	l.Source += ", Network.Type"
	sec, ok := iwdNetworkType(typ)
	if !ok {
		l.UnknownReason = fmt.Sprintf("iwd reports network type %q, which does not tell WPA1 from WPA2 or WPA3, and %s", typ, diagErr.Error())
		return nil
	}
	l.Security = sec
	return nil
}

// errNoSecurityDiagnostic: GetDiagnostics answered without a Security
// entry, as iwd does for networks without an AKM (open, WEP).
var errNoSecurityDiagnostic = errors.New("GetDiagnostics has no Security entry")

// iwdDiagnostics reads the negotiated AKM from GetDiagnostics.
func iwdDiagnostics(ctx context.Context, h host.Host, dev string, l *Link) error {
	out, err := run(ctx, h, busctlPaths, "--json=short", "call", iwdService, dev, iwdDiagnosticIface, "GetDiagnostics")
	if err != nil {
		return fmt.Errorf("GetDiagnostics failed: %w", iwdError(err))
	}
	s, found, err := busctlDictString(out.Stdout, "Security")
	if err != nil {
		return fmt.Errorf("GetDiagnostics: %w", err)
	}
	if !found {
		return errNoSecurityDiagnostic
	}
	l.Detail = "Security=" + s
	l.Source += ", StationDiagnostic Security"
	sec, ent, ok := iwdDiagnosticSecurity(s)
	if !ok {
		l.UnknownReason = "iwd reports a security " + strconv.Quote(s) + " this agent does not recognise"
		return nil
	}
	l.Security, l.Enterprise = sec, ent
	return nil
}

// iwdConnectedType reads the Type of the station's connected network.
func iwdConnectedType(ctx context.Context, h host.Host, dev string) (string, error) {
	out, err := run(ctx, h, busctlPaths, "--json=short", "get-property", iwdService, dev, iwdStationIface, "ConnectedNetwork")
	if err != nil {
		return "", iwdError(err)
	}
	network, err := busctlObjectPath(out.Stdout)
	if err != nil {
		return "", err
	}
	out, err = run(ctx, h, busctlPaths, "--json=short", "get-property", iwdService, network, iwdNetworkIface, "Type")
	if err != nil {
		return "", iwdError(err)
	}
	t, err := busctlStrings(out.Stdout, "s")
	if err != nil {
		return "", err
	}
	return t[0], nil
}

// iwdError explains the common busctl failures for iwd in a sentence.
func iwdError(err error) error {
	return busctlError(err, "iwd", "iwd has no station for the interface",
		"Unknown object", "Unknown interface", "UnknownObject", "UnknownInterface")
}
