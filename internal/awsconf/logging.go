package awsconf

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger sends the AWS SDK's log lines to slog: its Debug lines (such
// as "Response has no supported checksum" on ranged S3 GETs) at slog's
// Debug level, its warnings at Warn, instead of the SDK's default of
// printing every line on stderr.
type sdkLogger struct{ l *slog.Logger }

// SDKLogger is the logging.Logger of the SDK configurations Load and Local
// build: l, or slog.Default() at the time of each line when l is nil.
func SDKLogger(l *slog.Logger) logging.Logger { return sdkLogger{l} }

// Logf implements logging.Logger.
func (s sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	l := s.l
	if l == nil {
		l = slog.Default()
	}
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if l.Enabled(ctx, level) {
		l.Log(ctx, level, fmt.Sprintf(format, v...), "source", "aws-sdk")
	}
}
