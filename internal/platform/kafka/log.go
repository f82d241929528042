package kafka

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// clientLog hands franz-go's own log lines (group joins, rebalances,
// heartbeat errors, broker connections) to the process's slog logger:
// without them a consumer group that stops consuming leaves no trace of
// why. Its level follows the logger's, so nothing below the configured
// LOG_LEVEL is even formatted.
type clientLog struct{ l *slog.Logger }

// Level maps the slog handler's enabled level to franz-go's.
func (c clientLog) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case c.l.Enabled(ctx, slog.LevelDebug):
		return kgo.LogLevelDebug
	case c.l.Enabled(ctx, slog.LevelInfo):
		return kgo.LogLevelInfo
	case c.l.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	case c.l.Enabled(ctx, slog.LevelError):
		return kgo.LogLevelError
	}
	return kgo.LogLevelNone
}

// Log writes one franz-go line; keyvals are its alternating keys and values.
func (c clientLog) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		lv = slog.LevelError
	case kgo.LogLevelWarn:
		lv = slog.LevelWarn
	case kgo.LogLevelInfo:
		lv = slog.LevelInfo
	}
	c.l.Log(context.Background(), lv, "kafka: "+msg, keyvals...)
}

// withLog adds the logger to a client's options (nil: franz-go's default,
// which logs nothing).
func withLog(l *slog.Logger, opts []kgo.Opt) []kgo.Opt {
	if l == nil {
		return opts
	}
	return append(opts, kgo.WithLogger(clientLog{l: l.With("component", "kafka")}))
}
