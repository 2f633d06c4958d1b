package node

import (
	"context"
	"io"
	"log/slog"
	"strings"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// NewLogger returns a structured logger writing to w in format "text" or
// "json" at level ("debug", "info", "warn", "error").
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// cmtLogger adapts slog to CometBFT's logger interface.
type cmtLogger struct{ l *slog.Logger }

var _ cmtlog.Logger = cmtLogger{}

// CometLogger returns a CometBFT logger that writes through l.
func CometLogger(l *slog.Logger) cmtlog.Logger { return cmtLogger{l} }

func (c cmtLogger) log(lv slog.Level, msg string, kv []any) {
	if !c.l.Enabled(context.Background(), lv) {
		return
	}
	c.l.Log(context.Background(), lv, msg, kv...)
}

func (c cmtLogger) Debug(msg string, kv ...any) { c.log(slog.LevelDebug, msg, kv) }
func (c cmtLogger) Info(msg string, kv ...any)  { c.log(slog.LevelInfo, msg, kv) }
func (c cmtLogger) Warn(msg string, kv ...any)  { c.log(slog.LevelWarn, msg, kv) }
func (c cmtLogger) Error(msg string, kv ...any) { c.log(slog.LevelError, msg, kv) }
func (c cmtLogger) With(kv ...any) cmtlog.Logger {
	return cmtLogger{c.l.With(kv...)}
}
