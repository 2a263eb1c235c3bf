package wifienc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// Windows sources.
const (
	cimNamespace   = `root\StandardCimv2`
	adapterQuery   = `SELECT Name, InterfaceDescription, InterfaceIndex, InterfaceGuid, InterfaceType, NdisPhysicalMedium, MediaConnectState FROM MSFT_NetAdapter`
	routeQuery     = `SELECT DestinationPrefix, InterfaceIndex, InterfaceAlias, RouteMetric, Store FROM MSFT_NetRoute`
	ipIfaceQuery   = `SELECT InterfaceIndex, InterfaceAlias, AddressFamily, InterfaceMetric, ConnectionState FROM MSFT_NetIPInterface`
	currentVersion = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
)

// Values of the CIM properties used (MSFT_NetAdapter, MSFT_NetRoute,
// MSFT_NetIPInterface; IANA ifType).
const (
	ndisMediumNative80211 = 9
	ifTypeIEEE80211       = 71
	ifTypePPP             = 23
	ifTypeTunnel          = 131
	mediaConnected        = 1
	storeActive           = 1
	afInet                = 2
	afInet6               = 23
	ipIfaceConnected      = 1
)

// winAdapter is one MSFT_NetAdapter row.
type winAdapter struct {
	name, desc, guid string
	index            int64
	ifType, medium   int64
	connected        bool
}

func (a winAdapter) wifi() bool {
	if strings.Contains(strings.ToLower(a.desc), "wi-fi direct") {
		return false // the virtual adapter for peer-to-peer links
	}
	return a.medium == ndisMediumNative80211 || a.ifType == ifTypeIEEE80211
}

func collectWindows(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Links: []Link{}, Paths: []Path{}, LinksSource: cimNamespace + ` MSFT_NetAdapter (NdisPhysicalMedium, MediaConnectState)`}
	adapters, err := windowsAdapters(ctx, h)
	if err != nil {
		return nil, err
	}
	for _, a := range adapters {
		if a.wifi() {
			f.Links = append(f.Links, Link{Interface: a.name, Connected: a.connected, Source: "MSFT_NetAdapter MediaConnectState"})
		}
	}
	if len(f.connected()) == 0 {
		return f, nil
	}
	windowsSecurity(ctx, h, f, adapters)
	windowsPaths(ctx, h, f, adapters)
	return f, nil
}

func windowsAdapters(ctx context.Context, h host.Host) ([]winAdapter, error) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	rows, err := h.WMI(ctx, cimNamespace, adapterQuery)
	if err != nil {
		return nil, fmt.Errorf("list the network adapters (MSFT_NetAdapter): %w", err)
	}
	if len(rows) == 0 {
		// No adapter at all is no answer (a Windows machine that reports
		// posture has a network adapter), so it cannot mean "no Wi-Fi".
		return nil, fmt.Errorf("list the network adapters: MSFT_NetAdapter returned no adapter")
	}
	out := make([]winAdapter, 0, len(rows))
	for _, r := range rows {
		a := winAdapter{name: wmiString(r, "Name"), desc: wmiString(r, "InterfaceDescription"), guid: normGUID(wmiString(r, "InterfaceGuid"))}
		a.index, _ = wmiInt(r, "InterfaceIndex")
		a.ifType, _ = wmiInt(r, "InterfaceType")
		a.medium, _ = wmiInt(r, "NdisPhysicalMedium")
		mcs, _ := wmiInt(r, "MediaConnectState")
		a.connected = mcs == mediaConnected
		out = append(out, a)
	}
	return out, nil
}

// systemRoot returns the Windows directory from the registry, as the
// agent's own environment cannot be trusted to be the machine's.
func systemRoot(h host.Host) string {
	if v, err := h.Registry(currentVersion, "SystemRoot"); err == nil && v.String != "" {
		return strings.TrimRight(v.String, `\`)
	}
	return `C:\Windows`
}

// windowsSecurity reads the authentication and cipher of each connected
// Wi-Fi adapter from netsh, matching blocks to adapters by GUID (by name
// when the GUID is missing).
func windowsSecurity(ctx context.Context, h host.Host, f *Facts, adapters []winAdapter) {
	netsh := systemRoot(h) + `\System32\netsh.exe`
	out, err := run(ctx, h, []string{netsh}, "wlan", "show", "interfaces")
	if reason := netshProblem(out, err); reason != "" {
		for i := range f.Links {
			if f.Links[i].Connected {
				f.Links[i].UnknownReason = reason
			}
		}
		return
	}
	blocks := parseNetshWlanInterfaces(out.Stdout)
	for i := range f.Links {
		l := &f.Links[i]
		if !l.Connected {
			continue
		}
		var guid string
		for _, a := range adapters {
			if a.name == l.Interface {
				guid = a.guid
			}
		}
		b, ok := findNetshBlock(blocks, guid, l.Interface)
		switch {
		case !ok:
			l.UnknownReason = "netsh wlan show interfaces does not list the adapter"
		case !b.connected():
			l.UnknownReason = "netsh wlan show interfaces shows no authentication for the adapter (still connecting?)"
		default:
			l.Detail = "Authentication=" + b.Auth + " Cipher=" + b.Cipher
			l.Source = "MSFT_NetAdapter MediaConnectState, netsh wlan show interfaces"
			sec, ent, ok := netshSecurity(b.Auth, b.Cipher)
			if !ok {
				l.UnknownReason = fmt.Sprintf("netsh reports authentication %q and cipher %q, which this agent does not recognise", b.Auth, b.Cipher)
				continue
			}
			l.Security, l.Enterprise = sec, ent
		}
	}
}

func findNetshBlock(blocks []netshInterface, guid, name string) (netshInterface, bool) {
	for _, b := range blocks {
		if guid != "" && b.GUID == guid {
			return b, true
		}
	}
	for _, b := range blocks {
		if b.Name == name {
			return b, true
		}
	}
	return netshInterface{}, false
}

// netshProblem explains why netsh gave no usable answer, or "". The tokens
// tested are the same in every display language (a settings URI, a
// service name).
func netshProblem(out host.Output, err error) string {
	text := decodeConsole(out.Stdout) + decodeConsole(out.Stderr)
	switch {
	case strings.Contains(text, "ms-settings:privacy-location"):
		return "netsh needs Location services to read Wi-Fi details (Windows 11 24H2 and later): turn on Settings > Privacy & security > Location"
	case strings.Contains(strings.ToLower(text), "wlansvc"):
		return "the WLAN AutoConfig service (wlansvc) is not running"
	case errors.Is(err, host.ErrNotFound):
		return "netsh.exe is not installed: " + err.Error()
	case err != nil:
		return "run netsh wlan show interfaces: " + err.Error()
	}
	return ""
}

// windowsPaths finds the interface each family's internet traffic leaves
// through: the most specific active route to the probe address on a
// connected interface, the lowest route plus interface metric breaking
// ties, as Windows chooses.
func windowsPaths(ctx context.Context, h host.Host, f *Facts, adapters []winAdapter) {
	ctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	routes, err := h.WMI(ctx, cimNamespace, routeQuery)
	if err != nil {
		f.RouteError = "the routes could not be read (MSFT_NetRoute): " + err.Error()
		return
	}
	ifaces, err := h.WMI(ctx, cimNamespace, ipIfaceQuery)
	if err != nil {
		f.RouteError = "the interface metrics could not be read (MSFT_NetIPInterface): " + err.Error()
		return
	}
	type ipIface struct {
		alias     string
		metric    int64
		connected bool
	}
	byKey := map[string]ipIface{}
	for _, r := range ifaces {
		idx, _ := wmiInt(r, "InterfaceIndex")
		af, _ := wmiInt(r, "AddressFamily")
		m, _ := wmiInt(r, "InterfaceMetric")
		cs, _ := wmiInt(r, "ConnectionState")
		byKey[fmt.Sprint(af, "/", idx)] = ipIface{alias: wmiString(r, "InterfaceAlias"), metric: m, connected: cs == ipIfaceConnected}
	}
	ras := &winVPNProfiles{ctx: ctx, h: h, f: f}
	for _, fam := range []struct {
		name  string
		af    int64
		probe netip.Addr
	}{{"ipv4", afInet, netip.MustParseAddr(probeIPv4)}, {"ipv6", afInet6, netip.MustParseAddr(probeIPv6)}} {
		bestBits, bestMetric, bestIdx, bestAlias := -1, int64(0), int64(0), ""
		for _, r := range routes {
			if st, ok := wmiInt(r, "Store"); ok && st != storeActive {
				continue
			}
			p, err := netip.ParsePrefix(wmiString(r, "DestinationPrefix"))
			if err != nil || !p.Contains(fam.probe) {
				continue
			}
			idx, _ := wmiInt(r, "InterfaceIndex")
			ipi, ok := byKey[fmt.Sprint(fam.af, "/", idx)]
			if !ok || !ipi.connected {
				continue
			}
			rm, _ := wmiInt(r, "RouteMetric")
			metric := rm + ipi.metric
			if p.Bits() > bestBits || (p.Bits() == bestBits && metric < bestMetric) {
				bestBits, bestMetric, bestIdx = p.Bits(), metric, idx
				bestAlias = wmiString(r, "InterfaceAlias")
				if bestAlias == "" {
					bestAlias = ipi.alias
				}
			}
		}
		if bestBits < 0 {
			continue
		}
		f.Paths = append(f.Paths, Path{
			Family: fam.name, Interface: bestAlias,
			Source: "MSFT_NetRoute, MSFT_NetIPInterface (most specific route, lowest metric)",
			Tunnel: windowsTunnel(bestIdx, bestAlias, adapters, ras),
		})
	}
}

// windowsTunnel recognises the adapter with the interface index as a VPN
// by its driver's description or its interface type. Connections of the
// built-in VPN client (RAS) have no adapter row of their own or run over
// a "WAN Miniport" driver with the PPP interface type; their profile
// gives the protocol and the connection's name.
func windowsTunnel(idx int64, alias string, adapters []winAdapter, ras *winVPNProfiles) *Tunnel {
	for _, a := range adapters {
		if a.index != idx {
			continue
		}
		desc := strings.ToLower(a.desc)
		if strings.Contains(desc, "wan miniport") || a.ifType == ifTypePPP {
			via := "MSFT_NetAdapter InterfaceDescription " + strconv.Quote(a.desc) + ", InterfaceType " + strconv.FormatInt(a.ifType, 10)
			if t := ras.rasTunnel(a.name, via); t != nil {
				return t
			}
		}
		if kind := windowsKindByDescription(a.desc); kind != "" {
			return &Tunnel{Interface: a.name, Kind: kind, Name: a.desc, Source: "MSFT_NetAdapter InterfaceDescription"}
		}
		switch a.ifType {
		case ifTypePPP:
			return &Tunnel{Interface: a.name, Kind: KindPPP, Name: a.desc, Source: "MSFT_NetAdapter InterfaceType 23 (PPP)"}
		case ifTypeTunnel:
			return &Tunnel{Interface: a.name, Kind: KindTunnel, Name: a.desc, Source: "MSFT_NetAdapter InterfaceType 131 (tunnel)"}
		}
		return nil
	}
	via := "no network adapter for interface index " + strconv.FormatInt(idx, 10) + " (a built-in VPN connection)"
	if t := ras.rasTunnel(alias, via); t != nil {
		return t
	}
	return &Tunnel{Interface: alias, Kind: KindVPN, Name: alias, Source: via + "; no built-in VPN profile of that name is visible to the agent"}
}
