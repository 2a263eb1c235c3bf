package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recorder is a channel that keeps what it is sent and fails while
// failures > 0.
type recorder struct {
	mu       sync.Mutex
	batches  []Batch
	failures int
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Send(_ context.Context, b Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures > 0 {
		r.failures--
		return errors.New("receiver down")
	}
	r.batches = append(r.batches, b)
	return nil
}

func (r *recorder) titles() [][]string {
	var out [][]string
	for _, b := range r.batches {
		var ts []string
		for _, a := range b.Alerts {
			ts = append(ts, a.Title)
		}
		out = append(out, ts)
	}
	return out
}

func alert(title string) Alert { return Alert{Kind: KindDeviceBlocked, Title: title} }

func TestDispatcher(t *testing.T) {
	ctx := context.Background()
	t.Run("alerts raised together go out as one message", func(t *testing.T) {
		c := &testClock{t: t0}
		r := &recorder{}
		d := New(Config{Channels: []Channel{r}, Now: c.Now, Sleep: (&sleeper{c: c}).Sleep})
		for _, n := range []string{"a", "b", "c"} {
			d.Raise(alert(n))
		}
		d.Flush(ctx)
		d.Flush(ctx)
		if diff := cmp.Diff([][]string{{"a", "b", "c"}}, r.titles()); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
	})
	t.Run("past the hourly limit alerts wait and leave together an hour after the first message", func(t *testing.T) {
		c := &testClock{t: t0}
		r := &recorder{}
		d := New(Config{Channels: []Channel{r}, Now: c.Now, MaxPerHour: 2, Sleep: (&sleeper{c: c}).Sleep})
		for _, n := range []string{"1", "2", "3", "4"} {
			d.Raise(alert(n))
			d.Flush(ctx)
			c.Add(time.Minute)
		}
		if got := len(r.batches); got != 2 {
			t.Fatalf("%d messages within the hour, want 2", got)
		}
		c.Add(time.Hour - 4*time.Minute - time.Second)
		d.Flush(ctx)
		if got := len(r.batches); got != 2 {
			t.Fatalf("%d messages a second before the hour, want 2", got)
		}
		c.Add(time.Second)
		d.Flush(ctx)
		if diff := cmp.Diff([][]string{{"1"}, {"2"}, {"3", "4"}}, r.titles()); diff != "" {
			t.Errorf("messages (-want +got):\n%s", diff)
		}
	})
	t.Run("a failing channel is retried with doubling waits", func(t *testing.T) {
		c := &testClock{t: t0}
		s := &sleeper{c: c}
		r := &recorder{failures: 3}
		d := New(Config{Channels: []Channel{r}, Now: c.Now, Sleep: s.Sleep})
		d.Raise(alert("x"))
		d.Flush(ctx)
		if diff := cmp.Diff([]time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second}, s.waits); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
		if len(r.batches) != 1 {
			t.Errorf("%d messages after the retries, want 1", len(r.batches))
		}
	})
	t.Run("a channel still failing keeps its alerts for the next flush, another is not held up", func(t *testing.T) {
		c := &testClock{t: t0}
		down, up := &recorder{failures: 5}, &recorder{}
		d := New(Config{Channels: []Channel{down, up}, Now: c.Now, Sleep: (&sleeper{c: c}).Sleep})
		d.Raise(alert("x"))
		d.Flush(ctx)
		d.Raise(alert("y"))
		d.Flush(ctx)
		if diff := cmp.Diff([][]string{{"x", "y"}}, down.titles()); diff != "" {
			t.Errorf("the failing channel's messages (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([][]string{{"x"}, {"y"}}, up.titles()); diff != "" {
			t.Errorf("the working channel's messages (-want +got):\n%s", diff)
		}
	})
	t.Run("a flood is listed up to 50 and counted beyond", func(t *testing.T) {
		c := &testClock{t: t0}
		r := &recorder{}
		d := New(Config{Channels: []Channel{r}, Now: c.Now})
		for range 70 {
			d.Raise(alert("f"))
		}
		d.Flush(ctx)
		if b := r.batches[0]; len(b.Alerts) != 50 || b.Omitted != 20 || !strings.Contains(b.PlainText(), "20 more alerts") {
			t.Errorf("batch of %d listed and %d omitted", len(b.Alerts), b.Omitted)
		}
	})
	t.Run("a host name cannot add lines to a message", func(t *testing.T) {
		r := &recorder{}
		d := New(Config{Channels: []Channel{r}})
		d.Raise(alert("Device evil\r\nBcc: x@evil.example blocked"))
		d.Flush(ctx)
		if got := r.batches[0].Alerts[0].Title; strings.ContainsAny(got, "\r\n") {
			t.Errorf("title %q keeps its line breaks", got)
		}
	})
}

func TestChatWebhooks(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &v); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		if strings.Contains(r.URL.Path, "down") {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		got = append(got, v)
		mu.Unlock()
	}))
	defer srv.Close()
	b := Batch{Alerts: []Alert{{Kind: KindCertExpiring, Title: "HTTPS certificate ends 1 Jun 2026", Text: "Renew <it> & reload.", At: t0}}}

	t.Run("Slack gets text and a mrkdwn section with its reserved characters escaped", func(t *testing.T) {
		w := &ChatWebhook{Flavor: Slack, URL: srv.URL + "/services/T000/B000/XXXX"}
		if err := w.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		m := got[len(got)-1]
		section := m["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)
		if m["text"] != "[Postern] HTTPS certificate ends 1 Jun 2026" || section["type"] != "mrkdwn" ||
			!strings.Contains(section["text"].(string), "Renew &lt;it&gt; &amp; reload.") {
			t.Errorf("slack payload %v", m)
		}
	})
	t.Run("Teams gets a message with an Adaptive Card", func(t *testing.T) {
		w := &ChatWebhook{Flavor: Teams, URL: srv.URL + "/webhookb2/abc/IncomingWebhook/def"}
		if err := w.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		m := got[len(got)-1]
		att := m["attachments"].([]any)[0].(map[string]any)
		card := att["content"].(map[string]any)
		if m["type"] != "message" || att["contentType"] != "application/vnd.microsoft.card.adaptive" || card["type"] != "AdaptiveCard" {
			t.Errorf("teams payload %v", m)
		}
		if body := card["body"].([]any); len(body) != 4 || body[1].(map[string]any)["text"] != "HTTPS certificate ends 1 Jun 2026" {
			t.Errorf("card body %v", card["body"])
		}
	})
	t.Run("a failing webhook's URL token is never logged", func(t *testing.T) {
		var logs bytes.Buffer
		c := &testClock{t: t0}
		w := &ChatWebhook{Flavor: Slack, URL: srv.URL + "/down/T000/B000/SECRETTOKEN"}
		refused := &ChatWebhook{Flavor: Teams, URL: "http://127.0.0.1:1/SECRETTOKEN2"}
		d := New(Config{Channels: []Channel{w, refused}, Now: c.Now, Sleep: (&sleeper{c: c}).Sleep, Attempts: 2,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		d.Raise(b.Alerts[0])
		d.Flush(context.Background())
		if !strings.Contains(logs.String(), "503") || strings.Contains(logs.String(), "SECRETTOKEN") {
			t.Errorf("logs %s", logs.String())
		}
	})
	t.Run("a host name cannot become a link in Slack or Teams", func(t *testing.T) {
		evil := Batch{Alerts: []Alert{{Kind: KindDeviceBlocked, Title: "Device [Renew here](https://evil.example) <https://evil.example|Renew> blocked", At: t0}}}
		for _, f := range []Flavor{Slack, Teams} {
			w := &ChatWebhook{Flavor: f, URL: srv.URL + "/x"}
			if err := w.Send(context.Background(), evil); err != nil {
				t.Fatal(err)
			}
			link := map[Flavor]string{Slack: "<https", Teams: "](https"}[f]
			for _, text := range allStrings(got[len(got)-1]) {
				if strings.Contains(text, link) {
					t.Errorf("%s text keeps link syntax: %q", f, text)
				}
			}
		}
	})
	t.Run("a webhook must be https off loopback", func(t *testing.T) {
		for _, u := range []string{"http://hooks.slack.com/services/x", "ftp://x", "not a url"} {
			if err := (&ChatWebhook{Flavor: Slack, URL: u}).Validate(); err == nil {
				t.Errorf("%q accepted", u)
			}
		}
		if err := (&ChatWebhook{Flavor: Teams, URL: "https://county.webhook.office.com/x"}).Validate(); err != nil {
			t.Error(err)
		}
	})
}

// allStrings returns every string in a decoded JSON value.
func allStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, allStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range x {
			out = append(out, allStrings(e)...)
		}
		return out
	}
	return nil
}
