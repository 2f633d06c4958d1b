package ui

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"time"

	weftv1 "github.com/weftnet/weft/proto/weftv1"
)

// StatusFunc collects a snapshot, with the history of samples when asked.
type StatusFunc func(ctx context.Context, history bool) (*weftv1.GetNetworkStatusResponse, error)

// Config configures the network page.
type Config struct {
	Status StatusFunc
	// Explorer is an L1 explorer's address URL prefix the inboxes link to
	// ("https://etherscan.io/address/"); empty: no link.
	Explorer string
	// Refresh is how often the page refreshes itself (default 2 s).
	Refresh time.Duration
	Log     *slog.Logger
}

//go:embed assets
var assets embed.FS

var pageTmpl = template.Must(template.ParseFS(assets, "assets/page.html"))

// maxResponse bounds what one answer may take; a page over it is an error
// (it cannot be with MaxValidators and the history's window).
const maxResponse = 4 << 20

// Handler serves the network page:
//
//	/              the page (html/template), refreshing itself in place
//	/fragment      the page's body alone, which the page's script fetches
//	/api/status    the snapshot's View as JSON
//	/api/history   the per-second samples behind the charts, as JSON
//	/static/...    the page's script, style sheet and icon
//
// It answers GET and HEAD only, with a content security policy that runs
// no script but its own.
func Handler(cfg Config) http.Handler {
	if cfg.Refresh <= 0 {
		cfg.Refresh = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p := &page{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", p.serveHTML("page"))
	mux.HandleFunc("/fragment", p.serveHTML("body"))
	mux.HandleFunc("/api/status", p.serveStatusJSON)
	mux.HandleFunc("/api/history", p.serveHistoryJSON)
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServerFS(mustSub(assets, "assets/static"))))
	return readOnly(mux)
}

// readOnly refuses every method but GET and HEAD and sets the headers that
// keep the page from being framed, sniffed or made to run other scripts.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "read-only: GET and HEAD only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

type page struct{ cfg Config }

// pageData is what the templates render.
type pageData struct {
	*View
	Charts    []Chart
	RefreshMS int64
	Error     string
}

func (p *page) collect(r *http.Request, history bool) (*weftv1.GetNetworkStatusResponse, error) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	return p.cfg.Status(ctx, history)
}

func (p *page) serveHTML(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := pageData{View: &View{}, RefreshMS: p.cfg.Refresh.Milliseconds()}
		resp, err := p.collect(r, true)
		if err != nil {
			d.Error = err.Error()
		} else {
			d.View = NewView(resp.Status, p.cfg.Explorer)
			d.Charts = Charts(resp.History)
		}
		var b bytes.Buffer
		if err := pageTmpl.ExecuteTemplate(&b, name, d); err != nil {
			p.cfg.Log.Error("network page", "err", err)
			http.Error(w, "cannot render the page", http.StatusInternalServerError)
			return
		}
		write(w, "text/html; charset=utf-8", b.Bytes())
	}
}

func (p *page) serveStatusJSON(w http.ResponseWriter, r *http.Request) {
	resp, err := p.collect(r, false)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, NewView(resp.Status, p.cfg.Explorer))
}

func (p *page) serveHistoryJSON(w http.ResponseWriter, r *http.Request) {
	resp, err := p.collect(r, true)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, HistoryView(resp.History))
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	write(w, "application/json", append(b, '\n'))
}

func write(w http.ResponseWriter, contentType string, b []byte) {
	if len(b) > maxResponse {
		http.Error(w, "answer too large", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(b)
}

// NewServer is an HTTP server for h with timeouts fit for a page exposed
// to anyone: slow or idle clients are dropped, headers are bounded.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// Serve serves h on lis until ctx ends, then shuts the server down.
func Serve(ctx context.Context, lis net.Listener, h http.Handler) error {
	srv := NewServer(h)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(lis); err != http.ErrServerClosed {
		return err
	}
	return nil
}
