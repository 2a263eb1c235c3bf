package wifienc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// Linux sources, by absolute path as the host interface requires.
const (
	sysNet          = "/sys/class/net/"
	procRoute       = "/proc/net/route"
	procIPv6Route   = "/proc/net/ipv6_route"
	nmService       = "org.freedesktop.NetworkManager"
	nmPath          = "/org/freedesktop/NetworkManager"
	nmWirelessIface = "org.freedesktop.NetworkManager.Device.Wireless"
	nmAPIface       = "org.freedesktop.NetworkManager.AccessPoint"
)

var (
	busctlPaths = []string{"/usr/bin/busctl", "/bin/busctl"}
	wpaCLIPaths = []string{"/usr/sbin/wpa_cli", "/sbin/wpa_cli", "/usr/bin/wpa_cli"}
	ipPaths     = []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}
)

func collectLinux(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Links: []Link{}, Paths: []Path{}}
	names, err := linuxWiFiInterfaces(h)
	if err != nil {
		return nil, err
	}
	f.LinksSource = sysNet + "*/wireless, " + sysNet + "*/phy80211"
	for _, name := range names {
		f.Links = append(f.Links, linuxLink(ctx, h, name, f))
	}
	if len(f.connected()) > 0 {
		linuxPaths(ctx, h, f)
	}
	return f, nil
}

// linuxWiFiInterfaces lists the interfaces the kernel's wireless stack
// drives: cfg80211 devices have a phy80211 link, and a wireless directory
// when wireless extensions are compiled in.
func linuxWiFiInterfaces(h host.Host) ([]string, error) {
	var names []string
	var errs []error
	for _, pat := range []string{sysNet + "*/wireless", sysNet + "*/phy80211"} {
		matches, err := h.Glob(pat)
		if errors.Is(err, host.ErrNotFound) {
			continue // no /sys/class/net entry matches (or a snapshot did not record any)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, m := range matches {
			if n := path.Base(path.Dir(m)); !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(errs) == 2 {
		return nil, fmt.Errorf("list the network interfaces: %w", errors.Join(errs...))
	}
	if len(names) == 0 {
		// "No Wi-Fi interface" needs the interface listing itself: every
		// Linux has /sys/class/net with at least lo in it.
		ifaces, err := h.ReadDir(strings.TrimSuffix(sysNet, "/"))
		switch {
		case err != nil:
			return nil, fmt.Errorf("list the network interfaces: %w", err)
		case len(ifaces) == 0:
			return nil, fmt.Errorf("list the network interfaces: %s lists none, not even lo", sysNet)
		}
	}
	slices.Sort(names)
	return names, nil
}

func linuxLink(ctx context.Context, h host.Host, name string, f *Facts) Link {
	l := Link{Interface: name}
	opPath := sysNet + name + "/operstate"
	b, err := h.ReadFile(opPath)
	state := strings.TrimSpace(string(b))
	if err == nil {
		l.Connected, l.Source = state == "up", opPath
		if !l.Connected {
			l.Source += " " + state
			return l
		}
	}
	var reasons []string
	nmErr := nmLink(ctx, h, &l)
	if nmErr == nil {
		return l
	}
	reasons = append(reasons, "NetworkManager: "+nmErr.Error())
	// iwd and wpa_supplicant are alternatives: whichever drives the radio
	// answers, the other is absent.
	iwdErr := iwdLink(ctx, h, &l)
	if iwdErr == nil {
		f.Notes = append(f.Notes, name+": NetworkManager did not answer ("+nmErr.Error()+"); iwd did")
		return l
	}
	reasons = append(reasons, "iwd: "+iwdErr.Error())
	wpaErr := wpaLink(ctx, h, &l)
	if wpaErr == nil {
		f.Notes = append(f.Notes, name+": NetworkManager did not answer ("+nmErr.Error()+"); wpa_supplicant did")
		return l
	}
	reasons = append(reasons, "wpa_supplicant: "+wpaErr.Error())
	if err != nil {
		// Neither the kernel nor a supplicant said whether it is connected:
		// count it as connected so that the verdict cannot pass on it.
		l.Connected = true
		reasons = append(reasons, "operstate: "+err.Error())
	}
	l.UnknownReason = strings.Join(reasons, "; ")
	return l
}

// nmLink asks NetworkManager over D-Bus which access point the device is
// associated with and reads that access point's security flags. Only the
// properties needed are read, so that the network's name never enters the
// facts or a recorded snapshot.
func nmLink(ctx context.Context, h host.Host, l *Link) error {
	out, err := run(ctx, h, busctlPaths, "--json=short", "call", nmService, nmPath, nmService, "GetDeviceByIpIface", "s", l.Interface)
	if err != nil {
		return nmError(err)
	}
	dev, err := busctlObjectPath(out.Stdout)
	if err != nil {
		return err
	}
	out, err = run(ctx, h, busctlPaths, "--json=short", "get-property", nmService, dev, nmWirelessIface, "ActiveAccessPoint")
	if err != nil {
		return nmError(err)
	}
	ap, err := busctlObjectPath(out.Stdout)
	if err != nil {
		return err
	}
	if ap == "/" {
		l.Connected, l.Source = false, "NetworkManager (no active access point)"
		return nil
	}
	out, err = run(ctx, h, busctlPaths, "--json=short", "get-property", nmService, ap, nmAPIface, "Flags", "WpaFlags", "RsnFlags")
	if err != nil {
		return nmError(err)
	}
	v, err := busctlUint32s(out.Stdout, 3)
	if err != nil {
		return err
	}
	l.Connected = true
	l.Security, l.Enterprise, l.Detail = nmSecurity(v[0], v[1], v[2])
	l.Source = "NetworkManager D-Bus AccessPoint Flags, WpaFlags, RsnFlags"
	return nil
}

// nmError explains the common busctl failures for NetworkManager in a
// sentence.
func nmError(err error) error {
	return busctlError(err, "NetworkManager", "NetworkManager does not manage the interface", "No device found")
}

// busctlError explains a busctl failure talking to service: not running,
// no system bus, access denied, or, when stderr holds one of missing,
// that the object is not there (notFound says so).
func busctlError(err error, service, notFound string, missing ...string) error {
	var ee *exitError
	if !errors.As(err, &ee) {
		return err
	}
	msg := string(ee.out.Stderr)
	has := func(subs ...string) bool {
		return slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(msg, s) })
	}
	switch {
	case has("was not provided by any .service files", "not activatable"):
		return errors.New(service + " is not running")
	case has("Failed to connect to bus"):
		return errors.New("the D-Bus system bus is not reachable")
	case has(missing...):
		return errors.New(notFound)
	case has("Access denied", "AccessDenied"):
		return host.Wrap(host.ErrPermission, fmt.Errorf("D-Bus denied access: %s", firstLine(ee.out.Stderr)))
	}
	return err
}

// wpaLink asks wpa_supplicant's control interface (which needs root or the
// netdev group) for the negotiated key management and cipher.
func wpaLink(ctx context.Context, h host.Host, l *Link) error {
	out, err := run(ctx, h, wpaCLIPaths, "-i", l.Interface, "status")
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) && strings.Contains(string(ee.out.Stdout)+string(ee.out.Stderr), "Failed to connect") {
			return fmt.Errorf("no wpa_supplicant control socket for %s (not running, or the agent lacks access)", l.Interface)
		}
		return err
	}
	st := parseWPACLIStatus(out.Stdout)
	if st.State == "" {
		return fmt.Errorf("wpa_cli status printed no wpa_state: %s", firstLine(out.Stdout))
	}
	l.Source = "wpa_cli status"
	if !st.connected() {
		l.Connected = false
		l.Source += " wpa_state=" + st.State
		return nil
	}
	l.Connected = true
	l.Detail = "key_mgmt=" + st.KeyMgmt + " pairwise_cipher=" + st.PairwiseCipher
	sec, ent, ok := st.security()
	if !ok {
		l.UnknownReason = "wpa_supplicant reports an unrecognised key management " + strconv.Quote(st.KeyMgmt)
		return nil
	}
	l.Security, l.Enterprise = sec, ent
	return nil
}

// linuxPaths finds the interface that carries internet traffic for each
// family: `ip route get` follows policy routing rules (wg-quick, Tailscale
// and NetworkManager's WireGuard route everything through a separate
// table), the /proc tables are the fallback and see the main table only.
func linuxPaths(ctx context.Context, h host.Host, f *Facts) {
	var errs []string
	var srcs []string // the source address each path's route chose, "" unknown
	for _, fam := range []struct {
		name, probe, procPath string
		args                  []string
		parse                 func([]byte) ([]kernelRoute, error)
	}{
		{"ipv4", probeIPv4, procRoute, []string{"-j", "route", "get", probeIPv4}, parseProcRoute},
		{"ipv6", probeIPv6, procIPv6Route, []string{"-j", "-6", "route", "get", probeIPv6}, parseProcIPv6Route},
	} {
		out, err := run(ctx, h, ipPaths, fam.args...)
		if err == nil {
			rt, perr := parseIPRouteGet(out.Stdout)
			if perr == nil {
				f.Paths = append(f.Paths, Path{Family: fam.name, Interface: rt.dev, Source: "ip " + strings.Join(fam.args, " ")})
				srcs = append(srcs, rt.prefsrc)
				continue
			}
			err = perr
		}
		var ee *exitError
		if errors.As(err, &ee) && strings.Contains(strings.ToLower(string(ee.out.Stderr)), "unreachable") {
			continue // no route for this family
		}
		b, rerr := h.ReadFile(fam.procPath)
		if rerr != nil {
			if fam.name == "ipv6" && errors.Is(rerr, host.ErrNotFound) {
				continue // IPv6 is disabled in the kernel
			}
			errs = append(errs, fmt.Sprintf("%s: %v; %v", fam.name, err, rerr))
			continue
		}
		routes, perr := fam.parse(b)
		if perr != nil {
			errs = append(errs, fmt.Sprintf("%s: %v; %v", fam.name, err, perr))
			continue
		}
		f.Notes = append(f.Notes, fam.name+" route from "+fam.procPath+" (policy routing is not visible there): "+err.Error())
		if dev, ok := lookupRoute(routes, netip.MustParseAddr(fam.probe)); ok {
			f.Paths = append(f.Paths, Path{Family: fam.name, Interface: dev, Source: fam.procPath})
			srcs = append(srcs, "")
		}
	}
	if len(errs) > 0 && len(f.Paths) == 0 {
		f.RouteError = "the routes could not be read: " + strings.Join(errs, "; ")
	}
	lt := &linuxTunnels{ctx: ctx, h: h, f: f}
	for i := range f.Paths {
		p := &f.Paths[i]
		p.Tunnel = lt.byInterface(p.Interface)
		if p.Tunnel == nil {
			probe := probeIPv4
			if p.Family == "ipv6" {
				probe = probeIPv6
			}
			p.Tunnel = lt.byXfrmPolicy(p.Interface, srcs[i], netip.MustParseAddr(probe))
		}
	}
}
