package api

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3 description of this API, served at
// /v1/openapi.json and checked in as docs/openapi.json (a test keeps the
// two identical and every served route documented).
//
//go:embed openapi.json
var OpenAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(OpenAPI)
}
