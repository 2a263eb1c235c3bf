package api

import "github.com/postern-dev/postern/server/store"

// manageRoute is a management endpoint and the scope it needs; the
// scope tests walk this list, so an endpoint cannot be added without its
// refusal being tested.
type manageRoute struct {
	method, path string
	scope        store.Scope
	h            func(a *api) manageFunc
}

var manageRoutes = []manageRoute{
	{"GET", "/v1/devices", store.ScopeDevicesRead, func(a *api) manageFunc { return a.listDevices }},
	{"GET", "/v1/devices/{id}", store.ScopeDevicesRead, func(a *api) manageFunc { return a.showDevice }},
	{"POST", "/v1/devices/{id}/revoke", store.ScopeDevicesWrite, func(a *api) manageFunc { return a.revokeDevice }},
	{"POST", "/v1/devices/{id}/recheck", store.ScopeDevicesWrite, func(a *api) manageFunc { return a.recheckDevice }},
	{"GET", "/v1/exceptions", store.ScopeDevicesRead, func(a *api) manageFunc { return a.listExceptions }},
	{"POST", "/v1/exceptions", store.ScopeExceptionsWrite, func(a *api) manageFunc { return a.grantException }},
	{"DELETE", "/v1/exceptions/{id}", store.ScopeExceptionsWrite, func(a *api) manageFunc { return a.endException }},
	{"GET", "/v1/enrollment-tokens", store.ScopeAdmin, func(a *api) manageFunc { return a.listTokens }},
	{"POST", "/v1/enrollment-tokens", store.ScopeAdmin, func(a *api) manageFunc { return a.createToken }},
	{"POST", "/v1/enrollment-tokens/{id}/revoke", store.ScopeAdmin, func(a *api) manageFunc { return a.revokeToken }},
	{"GET", "/v1/enrollment-secrets", store.ScopeAdmin, func(a *api) manageFunc { return a.listSecrets }},
	{"POST", "/v1/enrollment-secrets", store.ScopeAdmin, func(a *api) manageFunc { return a.createSecret }},
	{"POST", "/v1/enrollment-secrets/{id}/revoke", store.ScopeAdmin, func(a *api) manageFunc { return a.revokeSecret }},
	{"GET", "/v1/audit", store.ScopeAuditRead, func(a *api) manageFunc { return a.exportAudit }},
}

func (a *api) manageRoutes() []route {
	out := make([]route, 0, len(manageRoutes))
	for _, m := range manageRoutes {
		out = append(out, route{method: m.method, path: m.path, handler: a.manage(m.scope, m.h(a))})
	}
	return out
}
