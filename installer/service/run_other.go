//go:build !windows

package service

import "context"

// runWindows is never reached off Windows (Run checks the OS first).
func runWindows(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }
