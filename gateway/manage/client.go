package manage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits of the client.
const (
	// DefaultTimeout bounds a call (not an audit export, which streams).
	DefaultTimeout = 30 * time.Second
	maxBody        = 16 << 20
	maxAuditLine   = 1 << 20
)

// Refusals, matched by errors.Is on an *Error.
var (
	ErrUnauthorized = errors.New("api key refused (missing, unknown, expired or revoked)")
	ErrForbidden    = errors.New("api key lacks the scope")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
)

// Error is the server's refusal of a call.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Message is the server's explanation.
	Message string
	// Field names the parameter or body field at fault (400 only).
	Field string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("postern: %d: %s (field %s)", e.Status, e.Message, e.Field)
	}
	return fmt.Sprintf("postern: %d: %s", e.Status, e.Message)
}

// Unwrap gives the sentinel of the status, if any.
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	}
	return nil
}

// Client calls one postern-server's management API. It is safe for
// concurrent use.
type Client struct {
	base   *url.URL
	key    string
	http   *http.Client
	stream *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the client used for calls (its Timeout is ignored
// for audit exports).
func WithHTTPClient(c *http.Client) Option {
	return func(cl *Client) { cl.http = c }
}

// WithRootCAs trusts pool for the server's certificate (the server's
// ca.pem, unless it serves the department's own certificate).
func WithRootCAs(pool *x509.CertPool) Option {
	return func(cl *Client) {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		cl.http = &http.Client{Transport: t, Timeout: DefaultTimeout}
	}
}

// New returns a client for the server at baseURL (e.g.
// "https://postern.example:8443") using apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("base url %q: must be an absolute http(s) URL", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("api key: must be set")
	}
	c := &Client{base: u, key: apiKey, http: &http.Client{Timeout: DefaultTimeout}}
	for _, o := range opts {
		o(c)
	}
	c.stream = &http.Client{Transport: c.http.Transport, CheckRedirect: c.http.CheckRedirect, Jar: c.http.Jar}
	return c, nil
}

// do sends a call and decodes a JSON answer into out (unless nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	resp, err := c.send(ctx, c.http, method, path, query, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return refusal(resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, hc *http.Client, method, path string, query url.Values, in any) (*http.Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

func refusal(status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = http.StatusText(status)
	}
	return &Error{Status: status, Message: e.Error, Field: e.Field}
}

// Devices lists one page of devices matching f, ordered by hostname.
func (c *Client) Devices(ctx context.Context, f DeviceFilter) (DevicePage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "access": f.Access, "os": f.OS, "org": f.Org, "user": f.User, "q": f.Query} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var p DevicePage
	return p, c.do(ctx, http.MethodGet, "/v1/devices", q, nil, &p)
}

// Device returns one device with its decision.
func (c *Client) Device(ctx context.Context, id string) (Device, error) {
	var d Device
	return d, c.do(ctx, http.MethodGet, "/v1/devices/"+url.PathEscape(id), nil, nil, &d)
}

type reasonBody struct {
	Reason string `json:"reason,omitempty"`
}

// RevokeDevice revokes a device; reason goes to the audit log.
func (c *Client) RevokeDevice(ctx context.Context, id, reason string) error {
	return c.do(ctx, http.MethodPost, "/v1/devices/"+url.PathEscape(id)+"/revoke", nil, reasonBody{reason}, nil)
}

// RecheckDevice asks a connected agent to check and report now;
// ErrConflict when it is not connected.
func (c *Client) RecheckDevice(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/devices/"+url.PathEscape(id)+"/recheck", nil, nil, nil)
}

// Exceptions lists the exceptions not yet expired matching f, oldest
// start first.
func (c *Client) Exceptions(ctx context.Context, f ExceptionFilter) ([]Exception, error) {
	q := url.Values{}
	for k, v := range map[string]string{"device_id": f.DeviceID, "org": f.Org, "control": f.Control} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.All {
		q.Set("all", "true")
	}
	var out struct {
		Exceptions []Exception `json:"exceptions"`
	}
	return out.Exceptions, c.do(ctx, http.MethodGet, "/v1/exceptions", q, nil, &out)
}

// GrantException grants an exception; the key's name is its approver.
func (c *Client) GrantException(ctx context.Context, r ExceptionRequest) (Exception, error) {
	var e Exception
	return e, c.do(ctx, http.MethodPost, "/v1/exceptions", nil, r, &e)
}

// EndException ends an exception now; reason goes to the audit log.
func (c *Client) EndException(ctx context.Context, id, reason string) error {
	return c.do(ctx, http.MethodDelete, "/v1/exceptions/"+url.PathEscape(id), nil, reasonBody{reason}, nil)
}

// EnrollmentTokens lists one-time enrollment tokens, newest first.
func (c *Client) EnrollmentTokens(ctx context.Context) ([]EnrollmentToken, error) {
	var out struct {
		Tokens []EnrollmentToken `json:"tokens"`
	}
	return out.Tokens, c.do(ctx, http.MethodGet, "/v1/enrollment-tokens", nil, nil, &out)
}

// CreateEnrollmentToken creates a one-time enrollment token.
func (c *Client) CreateEnrollmentToken(ctx context.Context, r TokenRequest) (NewEnrollmentToken, error) {
	var t NewEnrollmentToken
	return t, c.do(ctx, http.MethodPost, "/v1/enrollment-tokens", nil, r, &t)
}

// RevokeEnrollmentToken revokes an unused token by its listed ID.
func (c *Client) RevokeEnrollmentToken(ctx context.Context, id string) (EnrollmentToken, error) {
	var t EnrollmentToken
	return t, c.do(ctx, http.MethodPost, "/v1/enrollment-tokens/"+url.PathEscape(id)+"/revoke", nil, nil, &t)
}

// EnrollmentSecrets lists reusable enrollment secrets, newest first.
func (c *Client) EnrollmentSecrets(ctx context.Context) ([]EnrollmentSecret, error) {
	var out struct {
		Secrets []EnrollmentSecret `json:"secrets"`
	}
	return out.Secrets, c.do(ctx, http.MethodGet, "/v1/enrollment-secrets", nil, nil, &out)
}

// CreateEnrollmentSecret creates a reusable enrollment secret.
func (c *Client) CreateEnrollmentSecret(ctx context.Context, r SecretRequest) (NewEnrollmentSecret, error) {
	var s NewEnrollmentSecret
	return s, c.do(ctx, http.MethodPost, "/v1/enrollment-secrets", nil, r, &s)
}

// RevokeEnrollmentSecret revokes a secret; devices it enrolled stay.
func (c *Client) RevokeEnrollmentSecret(ctx context.Context, id string) (EnrollmentSecret, error) {
	var s EnrollmentSecret
	return s, c.do(ctx, http.MethodPost, "/v1/enrollment-secrets/"+url.PathEscape(id)+"/revoke", nil, nil, &s)
}

// Audit streams the audit rows matching f to fn, oldest first, until the
// end of the log, f.Limit rows, or fn's error (returned as is). To resume,
// set f.After to the last row's Seq.
func (c *Client) Audit(ctx context.Context, f AuditFilter, fn func(AuditRow) error) error {
	q := url.Values{}
	if f.After > 0 {
		q.Set("after", strconv.FormatUint(f.After, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	for k, v := range map[string]string{"kind": f.Kind, "actor": f.Actor, "device_id": f.DeviceID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, t := range map[string]time.Time{"from": f.From, "to": f.To} {
		if !t.IsZero() {
			q.Set(k, t.UTC().Format(time.RFC3339Nano))
		}
	}
	resp, err := c.send(ctx, c.stream, http.MethodGet, "/v1/audit", q, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		return refusal(resp.StatusCode, body)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxAuditLine)
	for sc.Scan() {
		var r AuditRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("audit export: decode row: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	return nil
}
