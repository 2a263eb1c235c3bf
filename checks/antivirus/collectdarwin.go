package antivirus

import (
	"context"

	"github.com/postern-dev/postern/checks/host"
)

// collectDarwin reads XProtect, the known agents and Homebrew's ClamAV.
func collectDarwin(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Products: []Product{}}
	f.Products = append(f.Products, collectAgents(ctx, h, f)...)
	if p := collectXProtect(ctx, h, f); p != nil {
		f.Products = append(f.Products, *p)
	}
	if p := collectClamAV(ctx, h, f); p != nil {
		f.Products = append(f.Products, *p)
	}
	return f, nil
}
