package wifienc

// Facts is what the collector saw. It never holds the network's name
// (SSID) or the access point's address (BSSID).
type Facts struct {
	// Links are the Wi-Fi interfaces of the machine; none means the machine
	// has no Wi-Fi.
	Links []Link `json:"links"`
	// LinksSource says how the interfaces were found.
	LinksSource string `json:"links_source"`
	// Paths are the routes internet traffic takes, one per address family
	// that has one. Empty when the machine has no route to the internet or
	// the routes could not be read (see RouteError).
	Paths []Path `json:"paths"`
	// RouteError says why the routes could not be read, if so.
	RouteError string `json:"route_error,omitempty"`
	// Notes explain sources that were tried and failed before another
	// answered.
	Notes []string `json:"notes,omitempty"`
}

// Link is one Wi-Fi interface.
type Link struct {
	// Interface is the OS's name for it: wlan0, en0, "Wi-Fi".
	Interface string `json:"interface"`
	// Connected is true when it is associated with a network.
	Connected bool `json:"connected"`
	// Security is the security type of the connected network (open, wep,
	// wpa, owe, wpa2, wpa3); empty when it could not be read.
	Security string `json:"security,omitempty"`
	// Enterprise is true for 802.1X (EAP) authentication.
	Enterprise bool `json:"enterprise,omitempty"`
	// Detail is what the source said, e.g. "key_mgmt=WPA2-PSK
	// pairwise_cipher=CCMP" or "RsnFlags=0x188 (psk, ccmp)".
	Detail string `json:"detail,omitempty"`
	// Source names where Connected and Security came from.
	Source string `json:"source,omitempty"`
	// UnknownReason says why the security of a connected link could not be
	// read.
	UnknownReason string `json:"unknown_reason,omitempty"`
}

// Path is the route internet traffic of one address family takes.
type Path struct {
	// Family is "ipv4" or "ipv6".
	Family string `json:"family"`
	// Interface carries the traffic.
	Interface string `json:"interface"`
	// Source names where the route came from.
	Source string `json:"source"`
	// Tunnel describes Interface when it is a VPN or other tunnel.
	Tunnel *Tunnel `json:"tunnel,omitempty"`
}

// Tunnel is a VPN or other tunnel interface.
type Tunnel struct {
	Interface string `json:"interface"`
	// Kind is the kind of tunnel (see the Kind constants).
	Kind string `json:"kind"`
	// Name is the VPN service's or adapter's name, when the OS gives one
	// (macOS service name, Windows adapter description).
	Name string `json:"name,omitempty"`
	// Source says how the kind was recognised.
	Source string `json:"source"`
}

// connected returns the links that are associated with a network.
func (f *Facts) connected() []Link {
	var out []Link
	for _, l := range f.Links {
		if l.Connected {
			out = append(out, l)
		}
	}
	return out
}
