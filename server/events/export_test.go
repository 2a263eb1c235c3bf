package events

// CursorState is cursorState for the external tests.
var CursorState = cursorState
