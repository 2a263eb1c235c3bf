// Package catalog links every control of Policy 550.04 into a binary:
// importing it (for its side effects) registers all ten controls with
// package checks. The agent and the server import it; a package that only
// needs the core types imports checks alone.
package catalog
