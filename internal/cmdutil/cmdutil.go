package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/spf13/cobra"
)

// Exit codes of both binaries.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitFailure: the thing asked failed (or, for a check or a status,
	// the answer is "no": not compliant, blocked, not enrolled).
	ExitFailure = 1
	// ExitUsage: the command line is wrong (unknown command or flag,
	// missing or extra argument, bad flag value).
	ExitUsage = 2
)

// UsageError is an error in the command line rather than in the thing
// asked; it exits with ExitUsage.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// IsUsage marks UsageError as a usage error for ExitCode; a binary's own
// error types may implement it too.
func (UsageError) IsUsage() bool { return true }

// usager is an error that says it is a usage error.
type usager interface{ IsUsage() bool }

// Usagef returns a UsageError.
func Usagef(format string, a ...any) error { return UsageError{fmt.Errorf(format, a...)} }

// ExitError carries an explicit exit code; Err, if any, is printed.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps the error a command returned to the process exit code.
func ExitCode(err error) int {
	var ee *ExitError
	var ue usager
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ue) && ue.IsUsage():
		return ExitUsage
	// Cobra's own checks of required flags return plain errors.
	case strings.HasPrefix(err.Error(), "required flag(s)"), strings.HasPrefix(err.Error(), "if any flags in the group"):
		return ExitUsage
	default:
		return ExitFailure
	}
}

// Message is what to print for err, or "" when nothing should be (an
// ExitError without a cause).
func Message(err error) string {
	if err == nil {
		return ""
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Err == nil {
		return ""
	}
	return err.Error()
}

// Setup applies the conventions to a command tree built by the binary:
// flag and argument errors of every command become usage errors, an
// unknown command is a usage error, and --version prints "NAME VERSION".
// Call it after every subcommand is added.
func Setup(root *cobra.Command, version string) {
	root.Version = version
	root.SetVersionTemplate(root.Name() + " {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError{err} })
	wrapArgs(root)
}

func wrapArgs(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return UsageError{err}
			}
			return nil
		}
	}
	if c.HasSubCommands() && !c.Runnable() {
		// A group: cobra would print its help and exit 0 for any word it
		// does not know. Help alone is fine; anything else is a typo.
		c.RunE = func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return Usagef("unknown command %q for %q", a[0], cmd.CommandPath())
			}
			return cmd.Help()
		}
		if c.Args == nil {
			c.Args = cobra.ArbitraryArgs
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// WriteJSON writes v as indented JSON followed by a newline, leaving <, >
// and & as they are: the output is read by people and jq, never embedded
// in HTML.
func WriteJSON(w io.Writer, v any) error {
	enc := jsonenc.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// CreateOutput creates path for writing a command's output. It refuses an
// existing file unless force is set, so that a mistyped -o never replaces
// something else.
func CreateOutput(path string, force bool, perm fs.FileMode) (*os.File, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s already exists: choose another name, or pass --force to replace it", path)
	}
	return f, err
}

// RefuseOverwrite returns an error when path exists and force is not set.
func RefuseOverwrite(path string, force bool) error {
	if force {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists: choose another name, or pass --force to replace it", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check %s: %w", path, err)
	}
	return nil
}
