package wifienc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// macOS programs.
const (
	systemProfilerPath = "/usr/sbin/system_profiler"
	routePath          = "/sbin/route"
	scutilPath         = "/usr/sbin/scutil"
	// system_profiler takes several seconds on some Macs.
	systemProfilerTimeout = 30 * time.Second
)

func collectDarwin(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Links: []Link{}, Paths: []Path{}, LinksSource: "system_profiler -json SPAirPortDataType"}
	pctx, cancel := context.WithTimeout(ctx, systemProfilerTimeout)
	defer cancel()
	out, err := h.Run(pctx, systemProfilerPath, "-json", "SPAirPortDataType")
	if err != nil {
		if errors.Is(err, host.ErrNotFound) {
			return nil, fmt.Errorf("system_profiler is not installed (%s)", systemProfilerPath)
		}
		return nil, fmt.Errorf("run system_profiler: %w", err)
	}
	if out.ExitCode != 0 {
		return nil, &exitError{name: "system_profiler", out: out}
	}
	ifs, err := parseSystemProfilerAirPort(out.Stdout)
	if err != nil {
		return nil, err
	}
	for _, i := range ifs {
		l := Link{Interface: i.Name, Connected: i.connected(), Source: "system_profiler SPAirPortDataType"}
		if l.Connected {
			mode := ""
			if i.Current != nil {
				mode = i.Current.Security
			}
			l.Detail = mode
			sec, ent, ok := airportSecurity(mode)
			switch {
			case mode == "":
				l.UnknownReason = "system_profiler shows no security mode for the current network"
			case !ok:
				l.UnknownReason = fmt.Sprintf("system_profiler reports a security mode %q this agent does not recognise", mode)
			default:
				l.Security, l.Enterprise = sec, ent
			}
		}
		f.Links = append(f.Links, l)
	}
	if len(f.connected()) > 0 {
		darwinPaths(ctx, h, f)
	}
	return f, nil
}

// darwinPaths asks the routing table which interface reaches the probe
// addresses: `route get` follows the scoped and split (0/1, 128/1)
// routes VPN clients install.
func darwinPaths(ctx context.Context, h host.Host, f *Facts) {
	var errs []string
	var services []ncService
	var ifaceOf map[string]string
	servicesRead := false
	for _, fam := range []struct {
		name string
		args []string
	}{
		{"ipv4", []string{"-n", "get", probeIPv4}},
		{"ipv6", []string{"-n", "get", "-inet6", probeIPv6}},
	} {
		out, err := run(ctx, h, []string{routePath}, fam.args...)
		if err != nil {
			var ee *exitError
			if errors.As(err, &ee) && strings.Contains(string(ee.out.Stderr)+string(ee.out.Stdout), "not in table") {
				continue // no route for this family
			}
			errs = append(errs, fam.name+": "+err.Error())
			continue
		}
		dev, err := parseBSDRouteGet(out.Stdout)
		if err != nil {
			errs = append(errs, fam.name+": "+err.Error())
			continue
		}
		p := Path{Family: fam.name, Interface: dev, Source: "route " + strings.Join(fam.args, " ")}
		if darwinTunnelName(dev) {
			if !servicesRead {
				services, ifaceOf = darwinVPNServices(ctx, h, f)
				servicesRead = true
			}
			p.Tunnel = darwinTunnel(dev, services, ifaceOf)
		}
		f.Paths = append(f.Paths, p)
	}
	if len(errs) > 0 && len(f.Paths) == 0 {
		f.RouteError = "the routes could not be read: " + strings.Join(errs, "; ")
	}
}

// darwinTunnelName reports whether a macOS interface name is a tunnel's:
// utun (NetworkExtension and IKEv2 VPNs), ipsec (the built-in IPsec
// client), ppp (L2TP), tun/tap (third-party kernel extensions).
func darwinTunnelName(dev string) bool {
	for _, p := range []string{"utun", "ipsec", "ppp", "tun", "tap"} {
		if strings.HasPrefix(dev, p) {
			return true
		}
	}
	return false
}

// darwinVPNServices lists the connected VPN services and the interface
// each one uses, by service ID.
func darwinVPNServices(ctx context.Context, h host.Host, f *Facts) ([]ncService, map[string]string) {
	out, err := run(ctx, h, []string{scutilPath}, "--nc", "list")
	if err != nil {
		f.Notes = append(f.Notes, "the VPN services could not be listed: "+err.Error())
		return nil, nil
	}
	var connected []ncService
	ifaceOf := map[string]string{}
	for _, s := range parseSCUtilNCList(out.Stdout) {
		if !s.Connected {
			continue
		}
		connected = append(connected, s)
		if st, err := run(ctx, h, []string{scutilPath}, "--nc", "status", s.ID); err == nil {
			ifaceOf[s.ID] = parseSCUtilNCStatusInterface(st.Stdout)
		}
	}
	return connected, ifaceOf
}

// darwinTunnel names the VPN service that owns the tunnel interface dev:
// the one whose status gives that InterfaceName, or the only connected
// one. An unattributed utun is not a VPN anyone approved (macOS itself uses
// utun interfaces for iCloud Private Relay and other services).
func darwinTunnel(dev string, services []ncService, ifaceOf map[string]string) *Tunnel {
	for _, s := range services {
		if ifaceOf[s.ID] == dev {
			return serviceTunnel(dev, s, "scutil --nc status InterfaceName")
		}
	}
	if len(services) == 1 && ifaceOf[services[0].ID] == "" {
		return serviceTunnel(dev, services[0], "scutil --nc list (the only connected VPN service)")
	}
	return &Tunnel{Interface: dev, Kind: KindVPN, Source: "interface name; no connected VPN service in scutil --nc list owns it"}
}

func serviceTunnel(dev string, s ncService, src string) *Tunnel {
	return &Tunnel{Interface: dev, Kind: macKindByServiceType(s.Type), Name: s.Name, Source: src + ", type " + s.Type}
}
