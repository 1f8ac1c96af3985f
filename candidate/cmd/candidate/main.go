// Command candidate is the Go rewrite of the platform's API layer (Banyan issue 7), serving
// the routes ported so far and answering 501 for the rest. It bills through legacy's
// internal API, so it needs legacy's URL and the internal token.
//
//	candidate --port 8200 --legacy-url http://127.0.0.1:8100 [--internal-token T]
//	          [--inference-url URL] [--host 127.0.0.1] [--log-format text|json]
//
// The token may come from BANYAN_INTERNAL_TOKEN instead of the flag; the host from
// BANYAN_HOST. Port 0 takes any free port (the log line "listening" says which).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"banyan/candidate/internal/billing"
	"banyan/candidate/internal/httpapi"
	"banyan/candidate/internal/lidmodel"
	"banyan/candidate/internal/llmmodel"
	"banyan/candidate/internal/reqid"
	"banyan/candidate/internal/stt"
	"banyan/candidate/internal/sttws"
	"banyan/candidate/internal/text"
	"banyan/candidate/internal/tokenizer"
	"banyan/candidate/internal/translation"
	"banyan/candidate/internal/translationmodel"
	"banyan/candidate/internal/tts"
	"banyan/candidate/internal/ttsspeech"
	"banyan/candidate/internal/ttsws"
)

// config is the command line, checked.
type config struct {
	host, legacyURL, internalToken, inferenceURL, logFormat string
	port                                                    int
	billingTimeout, shutdownGrace                           time.Duration
}

func parseFlags(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("candidate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c config
	defaultHost := getenv("BANYAN_HOST")
	if defaultHost == "" {
		defaultHost = "127.0.0.1"
	}
	defaultFormat := "text"
	if getenv("BANYAN_ENV") == "production" {
		defaultFormat = "json" // as legacy's logging: JSON in production, readable in dev
	}
	fs.StringVar(&c.host, "host", defaultHost, "interface to listen on (env BANYAN_HOST)")
	fs.IntVar(&c.port, "port", 8200, "port to listen on; 0 = any free port")
	fs.StringVar(&c.legacyURL, "legacy-url", getenv("BANYAN_LEGACY_URL"), "legacy's base URL, for the internal billing API")
	fs.StringVar(&c.internalToken, "internal-token", "", "legacy's internal API token (else env BANYAN_INTERNAL_TOKEN)")
	fs.StringVar(&c.inferenceURL, "inference-url", getenv("BANYAN_INFERENCE_URL"), "the inference server's base URL (its models: language identification, translation, …)")
	fs.StringVar(&c.logFormat, "log-format", defaultFormat, "text or json (json by default when BANYAN_ENV=production)")
	fs.DurationVar(&c.billingTimeout, "billing-timeout", billing.DefaultTimeout, "deadline of each internal billing API call")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 10*time.Second, "how long in-flight requests may finish after SIGINT/SIGTERM")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.internalToken == "" {
		c.internalToken = getenv("BANYAN_INTERNAL_TOKEN")
	}
	switch {
	case c.legacyURL == "":
		return c, errors.New("--legacy-url is required (the internal billing API is legacy's)")
	case c.internalToken == "":
		return c, errors.New("--internal-token or BANYAN_INTERNAL_TOKEN is required")
	case c.port < 0 || c.port > 65535:
		return c, fmt.Errorf("--port %d is not a port", c.port)
	case c.logFormat != "text" && c.logFormat != "json":
		return c, fmt.Errorf("--log-format %q: use text or json", c.logFormat)
	}
	return c, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(reqid.LogHandler{Handler: h}).With("service", "candidate")
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "candidate:", err)
		os.Exit(2)
	}
	log := newLogger(cfg.logFormat, os.Stderr)
	if err := run(cfg, log); err != nil {
		log.Error("candidate stopped", "error", err)
		os.Exit(1)
	}
}

// translator is the translation model's client, or nil when no inference URL is configured
// (/translate then answers 503, as legacy does). Its calls have a transport of their own (a
// clone of base), dialing under the model's connect timeout.
func translator(inferenceURL string, base *http.Transport) translation.Model {
	if inferenceURL == "" {
		return nil
	}
	client := &http.Client{Transport: translationmodel.NewTransport(base)}
	return translationmodel.New(inferenceURL, client, translationmodel.Timeout)
}

// speech is the text-to-speech model's client, or nil when no inference URL is configured
// (/text-to-speech then answers 503, as legacy does), on a transport of its own (a clone of
// base) dialing under the model's connect timeout; each call has the model's deadline.
func speech(inferenceURL string, base *http.Transport) tts.Model {
	if inferenceURL == "" {
		return nil
	}
	return tts.New(inferenceURL, &http.Client{Transport: tts.NewTransport(base)}, tts.Timeout)
}

// speechSocket is /text-to-speech/ws over the same model client as /text-to-speech; without
// one (no inference URL) every handshake is refused with 503, as legacy does.
func speechSocket(model tts.Model, biller *billing.Client, log *slog.Logger) http.Handler {
	cfg := ttsws.Config{Log: log, Billing: biller, Resolver: ttsspeech.Resolver{}, Audio: ttsspeech.Audio{}}
	if model != nil {
		cfg.Speaker = ttsspeech.Speaker{Model: model}
	}
	return ttsws.New(cfg)
}

// recognizer is the speech-recognition model's client, or nil when no inference URL is
// configured (/speech-to-text then answers 503, as legacy does), on a transport of its own (a
// clone of base) dialing under the model's connect timeout; each call has the model's deadline.
func recognizer(inferenceURL string, base *http.Transport) stt.Model {
	if inferenceURL == "" {
		return nil
	}
	return stt.New(inferenceURL, &http.Client{Transport: stt.NewTransport(base)}, stt.Timeout)
}

// recognitionSocket configures /speech-to-text/ws and /speech-to-text-translate/ws over the
// same model client as /speech-to-text; without one (no inference URL) every handshake is
// refused with 503, as legacy does.
func recognitionSocket(model stt.Model, biller *billing.Client, log *slog.Logger) sttws.Config {
	return sttws.Config{Log: log, Billing: biller, Model: model}
}

// chatRoutes is what the chat routes need: the chat model's client (none without an inference
// URL: they then answer 503, as legacy does) on a transport of its own (a clone of base) with
// the model's deadlines, the line-item billing, and the tokenizer, loaded once per process.
func chatRoutes(inferenceURL string, base *http.Transport, biller *billing.Client) (httpapi.ChatConfig, error) {
	words, err := tokenizer.Load()
	if err != nil {
		return httpapi.ChatConfig{}, err
	}
	c := httpapi.ChatConfig{Billing: biller, Tokenizer: words}
	if inferenceURL != "" {
		c.Model = llmmodel.New(inferenceURL, &http.Client{Transport: llmmodel.NewTransport(base)})
	}
	return c, nil
}

// run serves until SIGINT or SIGTERM, then lets in-flight requests finish (up to the grace).
func run(cfg config, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: transport}
	biller := billing.New(cfg.legacyURL, cfg.internalToken, client, cfg.billingTimeout, log)
	metrics := httpapi.NewMetrics()
	biller.ObserveCalls(metrics.ObserveBillingCall)
	chatConfig, err := chatRoutes(cfg.inferenceURL, transport, biller)
	if err != nil {
		return err
	}
	speechModel := speech(cfg.inferenceURL, transport)
	recognitionModel := recognizer(cfg.inferenceURL, transport)
	handler := httpapi.New(httpapi.Config{
		Logger:     log,
		Billing:    biller,
		Text:       text.New(),
		LID:        lidmodel.New(cfg.inferenceURL, client, lidmodel.DefaultTimeout),
		Metrics:    metrics,
		Translator: translator(cfg.inferenceURL, transport),
		Chat:       chatConfig,
		Speech:     speechModel,
		Sockets: map[string]http.Handler{
			"/text-to-speech/ws":           speechSocket(speechModel, biller, log),
			"/speech-to-text/ws":           sttws.NewTranscribe(recognitionSocket(recognitionModel, biller, log)),
			"/speech-to-text-translate/ws": sttws.NewTranslate(recognitionSocket(recognitionModel, biller, log)),
		},
		Recognition: httpapi.RecognitionConfig{
			Model: recognitionModel, Billing: biller,
		},
	})
	listener, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		return fmt.Errorf("listen on %s:%d (change --port): %w", cfg.host, cfg.port, err)
	}
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are read under httpapi's idle rule (no byte for 30 s) and the write budget
		// restarts when a body is read (httpapi.WriteTimeout); these are the backstops for a
		// request whose body nobody reads.
		ReadTimeout:    10 * time.Minute,
		WriteTimeout:   httpapi.WriteTimeout,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", "address", listener.Addr().String(), "legacy_url", cfg.legacyURL,
		"inference_url", cfg.inferenceURL)

	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.shutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownGrace)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
