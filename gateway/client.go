package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits of the client.
const (
	// DefaultTimeout bounds a Decide call.
	DefaultTimeout = 5 * time.Second
	maxBody        = 1 << 20
)

// ErrUnauthorized is returned when the server refuses the API key.
var ErrUnauthorized = errors.New("api key refused")

// Client talks to one postern-server. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	key     string
	http    *http.Client
	stream  *http.Client
	log     *slog.Logger
	backoff time.Duration
	maxWait time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the client used for requests (its Timeout is
// ignored for the event stream).
func WithHTTPClient(c *http.Client) Option {
	return func(cl *Client) { cl.http = c }
}

// WithRootCAs trusts pool for the server's certificate, typically the
// server's ca.pem, instead of the system roots.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(cl *Client) {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		cl.http = &http.Client{Transport: t, Timeout: DefaultTimeout}
	}
}

// WithLogger logs stream reconnections to l.
func WithLogger(l *slog.Logger) Option {
	return func(cl *Client) { cl.log = l }
}

// WithReconnect sets the first and the longest wait between reconnections
// of the event stream (default 500 ms and 30 s).
func WithReconnect(first, longest time.Duration) Option {
	return func(cl *Client) { cl.backoff, cl.maxWait = first, longest }
}

// New returns a client for the server at baseURL (e.g.
// "https://postern.example:8443") using the gateway API key apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("base url %q: must be an absolute http(s) URL", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("api key: must be set")
	}
	c := &Client{base: u, key: apiKey, http: &http.Client{Timeout: DefaultTimeout},
		log: slog.New(slog.DiscardHandler), backoff: 500 * time.Millisecond, maxWait: 30 * time.Second}
	for _, o := range opts {
		o(c)
	}
	// The stream lives long: same transport, no overall timeout.
	c.stream = &http.Client{Transport: c.http.Transport, CheckRedirect: c.http.CheckRedirect, Jar: c.http.Jar}
	return c, nil
}

// CertSHA256 returns the hex SHA-256 of a certificate's DER, the form
// DeviceQuery.CertSHA256 and Event.CertSHA256 use.
func CertSHA256(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// Decide asks whether the device may open or keep a session now. A deny
// is a Decision with Allow false and its reasons, not an error; errors
// mean no decision was made, and a gateway should then fail closed.
func (c *Client) Decide(ctx context.Context, q DeviceQuery) (Decision, error) {
	v := url.Values{}
	switch {
	case q.DeviceID != "" && q.CertSHA256 == "":
		v.Set("device_id", q.DeviceID)
	case q.CertSHA256 != "" && q.DeviceID == "":
		v.Set("cert_sha256", q.CertSHA256)
	default:
		return Decision{}, errors.New("decide: give exactly one of DeviceID and CertSHA256")
	}
	if q.User != "" {
		v.Set("user", q.User)
	}
	req, err := c.request(ctx, "/v1/decision?"+v.Encode())
	if err != nil {
		return Decision{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Decision{}, fmt.Errorf("decide: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Decision{}, fmt.Errorf("decide: read answer: %w", err)
	}
	if err := statusError(resp, body); err != nil {
		return Decision{}, fmt.Errorf("decide: %w", err)
	}
	var d Decision
	if err := json.Unmarshal(body, &d); err != nil {
		return Decision{}, fmt.Errorf("decide: decode answer: %w", err)
	}
	return d, nil
}

func (c *Client) request(ctx context.Context, pathAndQuery string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+pathAndQuery, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	return req, nil
}

func statusError(resp *http.Response, body []byte) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return fmt.Errorf("server answered %s: %s", resp.Status, e.Error)
	}
	return fmt.Errorf("server answered %s", resp.Status)
}
