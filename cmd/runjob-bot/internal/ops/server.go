package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve listens on addr at once – so that a port in use or a bad address
// fails start-up immediately – then serves h in the background until ctx
// ends, when the server shuts down gracefully (at most shutdownGrace,
// then connections are closed). It returns the bound address (useful with
// ":0") and wait, which blocks until the server has stopped and returns
// its error, nil after a clean shutdown.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (bound net.Addr, wait func() error, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("ops endpoint: %w", err) // names the address
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	done := make(chan struct{})
	var result error
	go func() {
		defer close(done)
		select {
		case err := <-served: // Serve failed on its own (it does not return otherwise)
			log.Error("ops server stopped", "err", err)
			result = err
			return
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			result = err
		}
	}()
	log.Info("ops endpoint listening", "addr", ln.Addr().String(), "paths", "/healthz /readyz /metrics")
	return ln.Addr(), func() error { <-done; return result }, nil
}
