package alerts

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/postern-dev/postern/internal/jsonenc"
)

// ChatWebhook posts batches to a chat incoming webhook: Slack's
// (a message with mrkdwn text) or Microsoft Teams' (an Adaptive Card,
// as Teams workflows and connectors take). The URL is the secret: it is
// never logged, only its host.
type ChatWebhook struct {
	Flavor Flavor
	URL    string
	Client *http.Client
}

// Flavor is the shape of a chat webhook's messages.
type Flavor string

// Flavors of chat webhooks.
const (
	Slack Flavor = "slack"
	Teams Flavor = "teams"
)

// Validate checks the URL: https, except on a loopback address (tests).
func (w *ChatWebhook) Validate() error {
	if w.Flavor != Slack && w.Flavor != Teams {
		return fmt.Errorf("alerts webhook: kind %q: want slack or teams", w.Flavor)
	}
	u, err := url.Parse(w.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("alerts %s webhook: not a URL", w.Flavor)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return fmt.Errorf("alerts %s webhook: must be https", w.Flavor)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// Name is the flavor and host only: the path holds the webhook's token.
func (w *ChatWebhook) Name() string {
	host := "?"
	if u, err := url.Parse(w.URL); err == nil {
		host = u.Host
	}
	return string(w.Flavor) + " webhook " + host
}

// Send posts b as one message.
func (w *ChatWebhook) Send(ctx context.Context, b Batch) error {
	var payload any
	if w.Flavor == Teams {
		payload = teamsMessage(b)
	} else {
		payload = slackMessage(b)
	}
	body, err := jsonenc.Marshal(payload)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", redact(err, w.URL))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "postern-server")
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		// url.Error quotes the URL, token and all.
		return redact(err, w.URL)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", w.Name(), resp.Status)
	}
	return nil
}

// redact replaces the webhook URL in err's text by its host.
func redact(err error, raw string) error {
	msg := err.Error()
	if raw != "" && strings.Contains(msg, raw) {
		host := "webhook"
		if u, perr := url.Parse(raw); perr == nil {
			host = u.Scheme + "://" + u.Host + "/(redacted)"
		}
		msg = strings.ReplaceAll(msg, raw, host)
	}
	return fmt.Errorf("post to chat webhook: %s", msg)
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackMessage is Slack's incoming-webhook payload: text for
// notifications, and the same text as a section block.
func slackMessage(b Batch) map[string]any {
	var sb strings.Builder
	fmt.Fprintf(&sb, "*%s*\n", slackEscape(b.Subject()))
	for _, a := range b.Alerts {
		fmt.Fprintf(&sb, "• *%s* (%s)", slackEscape(a.Title), timeText(a.At))
		if a.Text != "" {
			fmt.Fprintf(&sb, "\n   %s", slackEscape(a.Text))
		}
		sb.WriteString("\n")
	}
	if b.Omitted > 0 {
		fmt.Fprintf(&sb, "_%d more alerts are not listed: see the dashboard's audit log._\n", b.Omitted)
	}
	text := sb.String()
	// A section's text is at most 3000 characters.
	block := text
	if len(block) > 2900 {
		block = block[:2900] + "…"
	}
	return map[string]any{
		"text":   slackEscape(b.Subject()),
		"blocks": []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": block}}},
	}
}

// teamsText keeps a TextBlock's markdown from making a link of a name a
// device chose ("[Renew here](https://…)" as a host name): a zero-width
// space between "]" and "(" breaks the link syntax and shows nothing.
func teamsText(s string) string { return strings.ReplaceAll(s, "](", "]\u200b(") }

// teamsMessage is a Teams incoming-webhook payload: a message with one
// Adaptive Card attachment.
func teamsMessage(b Batch) map[string]any {
	body := []any{map[string]any{"type": "TextBlock", "text": teamsText(b.Subject()), "weight": "Bolder", "size": "Medium", "wrap": true}}
	for _, a := range b.Alerts {
		body = append(body,
			map[string]any{"type": "TextBlock", "text": teamsText(a.Title), "weight": "Bolder", "wrap": true, "separator": true},
			map[string]any{"type": "TextBlock", "text": teamsText(a.Text), "wrap": true},
			map[string]any{"type": "TextBlock", "text": timeText(a.At), "isSubtle": true, "size": "Small"})
	}
	if b.Omitted > 0 {
		body = append(body, map[string]any{"type": "TextBlock", "wrap": true, "isSubtle": true,
			"text": fmt.Sprintf("%d more alerts are not listed: see the dashboard's audit log.", b.Omitted)})
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content": map[string]any{
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type":    "AdaptiveCard",
				"version": "1.4",
				"body":    body,
			},
		}},
	}
}
