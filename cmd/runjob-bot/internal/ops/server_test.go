package ops

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeOpsServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", Handler(NewMetrics(version), Readiness{}, nil))
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	addr, wait, err := Serve(ctx, "127.0.0.1:0", mux, nil)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	base := "http://" + addr.String()
	client := &http.Client{Timeout: 10 * time.Second}

	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}

	// A request in flight when ctx ends is finished, not cut.
	type answer struct {
		body string
		err  error
	}
	slow := make(chan answer, 1)
	go func() {
		resp, err := client.Get(base + "/slow")
		if err != nil {
			slow <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- answer{string(b), err}
	}()
	<-entered
	cancel()
	close(release)
	if a := <-slow; a.err != nil || a.body != "done" {
		t.Errorf("request in flight at shutdown: %q, %v; want \"done\"", a.body, a.err)
	}
	if err := wait(); err != nil {
		t.Errorf("wait after shutdown: %v", err)
	}
	client.CloseIdleConnections()
	if resp, err := client.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("the server still answers after shutdown")
	}
}

func TestServeOpsPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr, wait, err := Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler(), nil)
	if err == nil {
		t.Fatalf("Serve on a taken port = %v, nil; want an error", addr)
	}
	if wait != nil || addr != nil {
		t.Errorf("Serve failed but returned an address or wait")
	}
	if !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("error %q does not name the address", err)
	}
}

func TestServeOpsBadAddress(t *testing.T) {
	if _, _, err := Serve(context.Background(), "not-an-address", http.NotFoundHandler(), nil); err == nil {
		t.Errorf("Serve(\"not-an-address\") succeeded")
	}
}
