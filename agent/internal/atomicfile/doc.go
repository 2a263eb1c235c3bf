// Package atomicfile writes files so that a reader, or the agent after a
// crash or power loss, sees either the old content or the new, never a
// torn mix. It is portable (Linux, Windows, macOS).
package atomicfile
