// Package otlpjsonlinesreceiver is a Collector receiver that reads files of OTLP/JSON lines (one
// ExportTraceServiceRequest, ExportMetricsServiceRequest or ExportLogsServiceRequest per line, the
// format of the file exporter's `format: json`, of the contrib otlpjsonfile receiver's input and of
// `otelrr sessions export`) and sends their content down the pipelines.
//
// It stands in for the contrib otlpjsonfile receiver, whose module the Go module proxy reachable here
// does not serve. Each line is decoded with pdata's OTLP/JSON unmarshalers, the same decoders the
// contrib receiver uses; unlike it, every matching file is read once from the beginning at start
// (no tailing, no offsets storage), in the order the include patterns list them, files of one
// pattern in lexical order.
//
//	receivers:
//	  otlpjsonlines:
//	    include: [/path/to/session.jsonl]
//
// When every file has been read it logs "otlpjsonlines: done" with the numbers of lines, spans, data
// points and log records it sent, so a benchmark or a test can tell that it is finished.
package otlpjsonlinesreceiver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"
)

// Type is the receiver's name in a Collector configuration.
var Type = component.MustNewType("otlpjsonlines")

// Config lists the files to read.
type Config struct {
	// Include holds glob patterns (filepath.Match syntax); each matching file is read once.
	Include []string `mapstructure:"include"`
}

// Validate rejects a configuration that names no file.
func (c *Config) Validate() error {
	if len(c.Include) == 0 {
		return errors.New("include: at least one file or pattern is required")
	}
	for _, pattern := range c.Include {
		if _, err := filepath.Match(pattern, ""); err != nil {
			return fmt.Errorf("include: bad pattern %q: %w", pattern, err)
		}
	}
	return nil
}

// NewFactory returns the receiver's factory, for the Collector's components list.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(Type,
		func() component.Config { return &Config{} },
		receiver.WithTraces(createTraces, component.StabilityLevelDevelopment),
		receiver.WithMetrics(createMetrics, component.StabilityLevelDevelopment),
		receiver.WithLogs(createLogs, component.StabilityLevelDevelopment))
}

// One reader serves the traces, metrics and logs pipelines that use the same receiver entry, so each
// file is read once however many pipelines list the receiver.
var (
	sharedMu sync.Mutex
	shared   = map[*Config]*fileReader{}
)

func readerFor(set receiver.Settings, cfg component.Config) *fileReader {
	c := cfg.(*Config)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	r, ok := shared[c]
	if !ok {
		r = &fileReader{cfg: c, logger: set.Logger}
		shared[c] = r
	}
	return r
}

func createTraces(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	r := readerFor(set, cfg)
	r.traces = next
	return r, nil
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	r := readerFor(set, cfg)
	r.metrics = next
	return r, nil
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	r := readerFor(set, cfg)
	r.logs = next
	return r, nil
}

type fileReader struct {
	cfg     *Config
	logger  *zap.Logger
	traces  consumer.Traces
	metrics consumer.Metrics
	logs    consumer.Logs

	startOnce, stopOnce sync.Once
	cancel              context.CancelFunc
	done                chan struct{}
}

// Start begins reading in the background; the Collector calls it once per pipeline signal, and all
// pipelines are created before any receiver starts, so every consumer is known by then.
func (r *fileReader) Start(_ context.Context, _ component.Host) error {
	var files []string
	for _, pattern := range r.cfg.Include {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return err
		}
		sort.Strings(matches)
		files = append(files, matches...)
	}
	r.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		r.done = make(chan struct{})
		go r.run(ctx, files)
	})
	return nil
}

// Shutdown stops reading and waits for the reader to return.
func (r *fileReader) Shutdown(context.Context) error {
	r.stopOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
		sharedMu.Lock()
		delete(shared, r.cfg)
		sharedMu.Unlock()
	})
	return nil
}

type totals struct{ lines, spans, points, records int }

func (r *fileReader) run(ctx context.Context, files []string) {
	defer close(r.done)
	var sum totals
	for _, name := range files {
		if err := r.readFile(ctx, name, &sum); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.logger.Error("otlpjsonlines: reading failed", zap.String("file", name), zap.Error(err))
		}
	}
	r.logger.Info("otlpjsonlines: done", zap.Int("files", len(files)), zap.Int("lines", sum.lines),
		zap.Int("spans", sum.spans), zap.Int("data_points", sum.points), zap.Int("log_records", sum.records))
}

func (r *fileReader) readFile(ctx context.Context, name string, sum *totals) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	in := bufio.NewReaderSize(f, 1<<20)
	for lineNo := 1; ; lineNo++ {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if perr := r.sendLine(ctx, line, sum); perr != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.logger.Error("otlpjsonlines: line dropped", zap.String("file", name), zap.Int("line", lineNo), zap.Error(perr))
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// sendLine decodes one line as each signal it can hold and sends what is not empty.
func (r *fileReader) sendLine(ctx context.Context, line []byte, sum *totals) error {
	sum.lines++
	var errs []error
	if r.traces != nil && bytes.Contains(line, []byte(`"resourceSpans"`)) {
		var u ptrace.JSONUnmarshaler
		td, err := u.UnmarshalTraces(line)
		if err != nil {
			errs = append(errs, err)
		} else if n := td.SpanCount(); n > 0 {
			errs = append(errs, deliver(ctx, func() error { return r.traces.ConsumeTraces(ctx, td) }))
			sum.spans += n
		}
	}
	if r.metrics != nil && bytes.Contains(line, []byte(`"resourceMetrics"`)) {
		var u pmetric.JSONUnmarshaler
		md, err := u.UnmarshalMetrics(line)
		if err != nil {
			errs = append(errs, err)
		} else if n := md.DataPointCount(); n > 0 {
			errs = append(errs, deliver(ctx, func() error { return r.metrics.ConsumeMetrics(ctx, md) }))
			sum.points += n
		}
	}
	if r.logs != nil && bytes.Contains(line, []byte(`"resourceLogs"`)) {
		var u plog.JSONUnmarshaler
		ld, err := u.UnmarshalLogs(line)
		if err != nil {
			errs = append(errs, err)
		} else if n := ld.LogRecordCount(); n > 0 {
			errs = append(errs, deliver(ctx, func() error { return r.logs.ConsumeLogs(ctx, ld) }))
			sum.records += n
		}
	}
	return errors.Join(errs...)
}

// deliver retries a refused batch (a full exporter queue, say) until it is taken, refused for good,
// or the receiver is shut down.
func deliver(ctx context.Context, consume func() error) error {
	wait := time.Millisecond
	for {
		err := consume()
		if err == nil || consumererror.IsPermanent(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if wait < 100*time.Millisecond {
			wait *= 2
		}
	}
}
