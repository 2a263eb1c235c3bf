package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/postern-dev/postern/internal/version"
	pb "github.com/postern-dev/postern/proto"
)

// NewCmdVersion returns `version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the agent's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(f.Out, "postern-agent %s (protocol %d, %s, %s/%s)\n", version.Version, pb.ProtocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
