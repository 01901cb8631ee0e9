package slacktest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// testTimeout bounds every wait in these tests; a hang fails, it is never a
// measurement.
const testTimeout = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newFake starts a fake that is closed when the test ends.
func newFake(t *testing.T, opts Options) *Server {
	t.Helper()
	fake := New(opts)
	t.Cleanup(fake.Close)
	return fake
}

// newAPI is the real slack-go Web API client pointed at fake, on its own transport
// so idle connections can be closed when the test ends.
func newAPI(t *testing.T, fake *Server, token string) *slack.Client {
	t.Helper()
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	return slack.New(token,
		slack.OptionAPIURL(fake.APIURL()),
		slack.OptionAppLevelToken(fake.AppToken()),
		slack.OptionHTTPClient(&http.Client{Transport: transport}))
}

// botClient runs the real socketmode client against a fake and hands the test
// the events it cares about, the way the bot consumes client.Events.
type botClient struct {
	api    *slack.Client
	sm     *socketmode.Client
	events chan socketmode.Event // hello, slash_commands, interactive

	cancel    context.CancelFunc
	runDone   chan error
	drainDone chan struct{}
	transport *http.Transport
	stopOnce  sync.Once

	mu       sync.Mutex
	problems []socketmode.Event // connection_error, incoming_error, …
}

func startClient(t *testing.T, fake *Server, opts ...socketmode.Option) *botClient {
	t.Helper()
	transport := &http.Transport{}
	api := slack.New(fake.BotToken(),
		slack.OptionAPIURL(fake.APIURL()),
		slack.OptionAppLevelToken(fake.AppToken()),
		slack.OptionHTTPClient(&http.Client{Transport: transport}))
	sm := socketmode.New(api, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	c := &botClient{
		api:       api,
		sm:        sm,
		events:    make(chan socketmode.Event, 256),
		cancel:    cancel,
		runDone:   make(chan error, 1),
		drainDone: make(chan struct{}),
		transport: transport,
	}
	go func() { c.runDone <- sm.RunContext(ctx) }()
	go func() {
		defer close(c.drainDone)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-sm.Events:
				switch evt.Type {
				case socketmode.EventTypeHello, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
					select {
					case c.events <- evt:
					case <-ctx.Done():
						return
					}
				case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError,
					socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed,
					socketmode.EventTypeInvalidAuth:
					c.mu.Lock()
					c.problems = append(c.problems, evt)
					c.mu.Unlock()
				}
			}
		}
	}()
	t.Cleanup(c.stop)
	return c
}

// stop cancels the client and waits until RunContext and the drain have returned.
func (c *botClient) stop() {
	c.stopOnce.Do(func() {
		c.cancel()
		<-c.runDone
		<-c.drainDone
		c.transport.CloseIdleConnections()
	})
}

func (c *botClient) problemEvents() []socketmode.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]socketmode.Event(nil), c.problems...)
}

// next returns the next event of type typ, skipping others (hellos after a
// reconnect, say).
func (c *botClient) next(ctx context.Context, t *testing.T, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	for {
		select {
		case evt := <-c.events:
			if evt.Type == typ {
				return evt
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", typ, ctx.Err())
			return socketmode.Event{}
		}
	}
}

// connectedClient starts a client and waits for its connection.
func connectedClient(ctx context.Context, t *testing.T, fake *Server, opts ...socketmode.Option) *botClient {
	t.Helper()
	want := fake.Connections() + 1
	c := startClient(t, fake, opts...)
	if err := fake.WaitConnections(ctx, want); err != nil {
		t.Fatalf("WaitConnections(%d): %v", want, err)
	}
	return c
}
