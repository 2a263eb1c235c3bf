package antivirus

import (
	"context"

	"github.com/postern-dev/postern/checks/host"
)

// collectLinux looks for ClamAV and the known endpoint agents.
func collectLinux(ctx context.Context, h host.Host) (*Facts, error) {
	f := &Facts{Products: []Product{}}
	f.Products = append(f.Products, collectAgents(ctx, h, f)...)
	if p := collectClamAV(ctx, h, f); p != nil {
		f.Products = append(f.Products, *p)
	}
	return f, nil
}
