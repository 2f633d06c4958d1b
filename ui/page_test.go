package ui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// fixtureStatus serves the fixture with a short history.
func fixtureStatus(_ context.Context, history bool) (*weftv1.GetNetworkStatusResponse, error) {
	resp := &weftv1.GetNetworkStatusResponse{Status: fixture()}
	if history {
		h := NewHistory(time.Minute)
		for i := range 5 {
			h.AddBlock(Block{Height: int64(1230 + i), Time: at.Add(time.Duration(i-5) * time.Second), Interval: 300 * time.Millisecond,
				Rollups: []RollupBlock{{Name: "alpha", Bytes: 1000, Lag: time.Second}, {Name: "<b>x</b>", Bytes: 10, Lag: -1}}})
		}
		resp.History = h.Samples()
	}
	return resp, nil
}

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPageShowsTheSnapshotEscaped(t *testing.T) {
	h := Handler(Config{Status: fixtureStatus, Explorer: "https://etherscan.io/address/"})
	r := get(t, h, http.MethodGet, "/")
	page := body(t, r)
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<span class="value" id="height">1234</span>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`<a class="rpc" href="http://127.0.0.1:8546">`,
		`href="https://etherscan.io/address/0xCfA5c7344859e4cfD7B7bfecB7306242Ff1d2bC8"`,
		`href="#ZgotmplZ"`, // beta's javascript: RPC URL is not a link
		`1.5 WEFT`, `0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266`, `jailed until 4000`,
		`5 on L1 · 3 credited · 2 waiting`, `unreachable: dial tcp`,
		`&lt;b&gt;x&lt;/b&gt; MB/s`, `<polyline`, `block interval`, `alpha settlement lag`,
		`<script src="/static/page.js" defer></script>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script>alert", "<b>x</b>", `href="javascript:`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %s unescaped", bad)
		}
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("content security policy %q", csp)
	}
	if r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", r.Header)
	}
}

func TestFragmentIsTheBodyAlone(t *testing.T) {
	frag := body(t, get(t, Handler(Config{Status: fixtureStatus}), http.MethodGet, "/fragment"))
	if strings.Contains(frag, "<html") || strings.Contains(frag, "<script") || !strings.Contains(frag, `id="height">1234<`) {
		t.Fatalf("fragment:\n%s", frag)
	}
}

func TestStatusJSONEndpoint(t *testing.T) {
	r := get(t, Handler(Config{Status: fixtureStatus}), http.MethodGet, "/api/status")
	if r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
	var v View
	if err := json.Unmarshal([]byte(body(t, r)), &v); err != nil {
		t.Fatal(err)
	}
	if v.Height != 1234 || len(v.Validators) != 4 || v.Validators[0].Stake != "1.5 WEFT" || len(v.Rollups) != 2 ||
		v.Rollups[0].Settlement.DepositsWaiting != 2 || len(v.Warnings) != 5 {
		t.Fatalf("view %+v", v)
	}
	var hist []SampleView
	if err := json.Unmarshal([]byte(body(t, get(t, Handler(Config{Status: fixtureStatus}), http.MethodGet, "/api/history"))), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 5 || hist[0].Rollups[0].Bytes != 1000 || *hist[0].Rollups[0].SettlementLagS != 1 || hist[0].Rollups[1].SettlementLagS != nil {
		t.Fatalf("history %+v", hist)
	}
}

func TestPageIsReadOnly(t *testing.T) {
	h := Handler(Config{Status: fixtureStatus})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if r := get(t, h, m, "/"); r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /: %d", m, r.StatusCode)
		}
	}
	for path, code := range map[string]int{
		"/nope": 404, "/static/page.js": 200, "/static/style.css": 200, "/static/favicon.svg": 200,
	} {
		if r := get(t, h, http.MethodGet, path); r.StatusCode != code {
			t.Errorf("GET %s: %d, want %d", path, r.StatusCode, code)
		}
	}
	for _, path := range []string{"/static/../page.go", "/static/%2e%2e/page.go", "/static/assets/page.html"} {
		if r := get(t, h, http.MethodGet, path); r.StatusCode == http.StatusOK {
			t.Errorf("GET %s served something", path)
		}
	}
}

func TestPageWhenTheNodeCannotCollect(t *testing.T) {
	h := Handler(Config{Status: func(context.Context, bool) (*weftv1.GetNetworkStatusResponse, error) {
		return nil, errors.New("<node stopping>")
	}})
	page := body(t, get(t, h, http.MethodGet, "/"))
	if !strings.Contains(page, "could not collect its status: &lt;node stopping&gt;") {
		t.Fatalf("page:\n%s", page)
	}
	if r := get(t, h, http.MethodGet, "/api/status"); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/api/status: %d", r.StatusCode)
	}
}

func TestServeStopsWithItsContext(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, lis, Handler(Config{Status: fixtureStatus})) }()
	r, err := http.Get("http://" + lis.Addr().String() + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	srv := NewServer(http.NotFoundHandler())
	if srv.ReadHeaderTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Fatalf("server without limits: %+v", srv)
	}
}
