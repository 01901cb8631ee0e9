package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// fakeSlack is a hand-written SlackAPI that keeps the messages it was
// given. failPost, when set, decides the fate of each post: the message may
// be stored and an error returned anyway (Slack's answer lost on the way).
type fakeSlack struct {
	mu       sync.Mutex
	msgs     []slack.Message // channel in Msg.Channel, thread in ThreadTimestamp
	updates  int
	seq      int
	failPost func(n int) (store bool, err error)
	posts    int
	// slowUpdate, when set, delays each chat.update (to let edits race).
	slowUpdate time.Duration
	cardText   map[string]string // ts → text of the last update
	broadcast  map[string]bool   // ts → posted with reply_broadcast
}

func (f *fakeSlack) PostMessageContext(_ context.Context, channel string, opts ...slack.MsgOption) (string, string, error) {
	_, v, err := slack.UnsafeApplyMsgOptions("", channel, "", opts...)
	if err != nil {
		return "", "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts++
	store, ferr := true, error(nil)
	if f.failPost != nil {
		store, ferr = f.failPost(f.posts)
	}
	if !store {
		return "", "", ferr
	}
	f.seq++
	m := slack.Message{}
	m.Channel = channel
	m.Timestamp = fmt.Sprintf("1700000001.%06d", f.seq)
	m.ThreadTimestamp = v.Get("thread_ts")
	m.Text = v.Get("text")
	if v.Get("reply_broadcast") == "true" {
		if f.broadcast == nil {
			f.broadcast = map[string]bool{}
		}
		f.broadcast[m.Timestamp] = true
	}
	if md := v.Get("metadata"); md != "" {
		if err := json.Unmarshal([]byte(md), &m.Metadata); err != nil {
			return "", "", err
		}
	}
	f.msgs = append(f.msgs, m)
	return channel, m.Timestamp, ferr
}

func (f *fakeSlack) UpdateMessageContext(_ context.Context, channel, ts string, opts ...slack.MsgOption) (string, string, string, error) {
	_, v, err := slack.UnsafeApplyMsgOptions("", channel, "", opts...)
	if err != nil {
		return "", "", "", err
	}
	time.Sleep(f.slowUpdate)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates++
	if f.cardText == nil {
		f.cardText = map[string]string{}
	}
	f.cardText[ts] = v.Get("text")
	return channel, ts, "", nil
}

func (f *fakeSlack) GetConversationRepliesContext(_ context.Context, p *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slack.Message
	for _, m := range f.msgs {
		if m.Channel == p.ChannelID && m.ThreadTimestamp == p.Timestamp {
			if !p.IncludeAllMetadata {
				m.Metadata = slack.SlackMetadata{}
			}
			out = append(out, m)
		}
	}
	return out, false, "", nil
}

// The notifier neither answers people nor looks up groups; those calls
// are tested on the fake Slack server (respond_test.go).
func (f *fakeSlack) PostEphemeralContext(context.Context, string, string, ...slack.MsgOption) (string, error) {
	return "", errors.New("fakeSlack: no ephemeral messages")
}

func (f *fakeSlack) GetUserGroupMembersContext(context.Context, string, ...slack.GetUserGroupMembersOption) ([]string, error) {
	return nil, errors.New("fakeSlack: no user groups")
}

func (f *fakeSlack) OpenViewContext(context.Context, string, slack.ModalViewRequest) (*slack.ViewResponse, error) {
	return nil, errors.New("the delivery fake opens no views")
}

func (f *fakeSlack) UpdateViewContext(context.Context, slack.ModalViewRequest, string, string, string) (*slack.ViewResponse, error) {
	return nil, errors.New("the delivery fake updates no views")
}

func (f *fakeSlack) PublishViewContext(context.Context, slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	return nil, errors.New("the delivery fake publishes no views")
}

func (f *fakeSlack) GetConversationsForUserContext(context.Context, *slack.GetConversationsForUserParameters) ([]slack.Channel, string, error) {
	return nil, "", errors.New("the delivery fake lists no channels")
}

func (f *fakeSlack) replies(thread string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.msgs {
		if m.ThreadTimestamp == thread {
			n++
		}
	}
	return n
}

// runDeliverers starts n deliverers on one outbox and returns a function
// that stops them.
func runDeliverers(t *testing.T, s *store.Store, api SlackAPI, n int) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		d := NewDeliverer(s, NewPoster(api, PosterOptions{ChannelBurst: 100, ChannelRate: 1000}), DelivererOptions{
			Consumer: fmt.Sprintf("r%d", i), ClaimIdle: 300 * time.Millisecond, Block: 50 * time.Millisecond,
		})
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.Run(ctx) }()
	}
	return func() { cancel(); wg.Wait() }
}

// eventually polls cond; it is a wait, not a timing assertion.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func finishJob(t *testing.T, s *store.Store, id int64, st xplenty.Status) {
	t.Helper()
	if err := s.Track(context.Background(), testRecord(id)); err != nil {
		t.Fatal(err)
	}
	if ch, err := s.Observe(context.Background(), xplenty.Job{ID: id, Status: st}); err != nil || ch != store.Finished {
		t.Fatalf("Observe = %v, %v", ch, err)
	}
}

func TestDeliverReplyInThreadOnce(t *testing.T) {
	s, rdb := newTestStore(t)
	api := &fakeSlack{}
	stop := runDeliverers(t, s, api, 2)
	defer stop()
	finishJob(t, s, 1001, xplenty.StatusCompleted)
	card := testRecord(1001).CardTS
	eventually(t, "the reply", func() bool { return api.replies(card) == 1 })
	eventually(t, "the outbox to drain", func() bool { return len(outbox(t, s, rdb)) == 0 })
	eventually(t, "the card edit", func() bool { return len(cardsMarked(t, s, rdb)) == 0 })
	time.Sleep(400 * time.Millisecond) // longer than ClaimIdle: nothing left to redeliver
	if n := api.replies(card); n != 1 {
		t.Errorf("%d replies in the thread, want 1", n)
	}
	api.mu.Lock()
	m := api.msgs[0]
	updates := api.updates
	api.mu.Unlock()
	if m.Metadata.EventType != ReplyEventType || m.Metadata.EventPayload["job_id"] != "1001" {
		t.Errorf("reply metadata = %+v", m.Metadata)
	}
	if updates != 1 {
		t.Errorf("card edited %d times, want 1", updates)
	}
}

// Slack posted the reply but its answer was lost: the retry finds the
// reply in the thread by its metadata and does not post it again.
func TestDeliverReplyLostAnswerIsNotPostedTwice(t *testing.T) {
	s, rdb := newTestStore(t)
	api := &fakeSlack{failPost: func(n int) (bool, error) {
		if n == 1 {
			return true, slack.StatusCodeError{Code: 502, Status: "502 Bad Gateway"}
		}
		return true, nil
	}}
	stop := runDeliverers(t, s, api, 1)
	defer stop()
	finishJob(t, s, 1001, xplenty.StatusFailed)
	eventually(t, "the reply to be marked delivered", func() bool {
		n, _ := rdb.Exists(context.Background(), s.Keys().Delivered(1001, xplenty.StatusFailed)).Result()
		return n == 1
	})
	if n := api.replies(testRecord(1001).CardTS); n != 1 {
		t.Errorf("%d replies in the thread, want 1", n)
	}
}

// Slack failed before posting: the retry posts it.
func TestDeliverReplyRetriedUntilSlackAccepts(t *testing.T) {
	s, _ := newTestStore(t)
	api := &fakeSlack{failPost: func(n int) (bool, error) {
		if n <= 2 {
			return false, slack.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}
		}
		return true, nil
	}}
	stop := runDeliverers(t, s, api, 1)
	defer stop()
	finishJob(t, s, 1001, xplenty.StatusStopped)
	eventually(t, "the reply", func() bool { return api.replies(testRecord(1001).CardTS) == 1 })
}

// A reply Slack will never take (it finds the message invalid) is
// dropped, not retried forever, and does not hold up the others.
func TestDeliverDropsPermanentFailures(t *testing.T) {
	s, rdb := newTestStore(t)
	api := &fakeSlack{failPost: func(n int) (bool, error) {
		if n == 1 {
			return false, slack.SlackErrorResponse{Err: "invalid_blocks"}
		}
		return true, nil
	}}
	stop := runDeliverers(t, s, api, 1)
	defer stop()
	finishJob(t, s, 1001, xplenty.StatusCompleted)
	finishJob(t, s, 1002, xplenty.StatusCompleted)
	eventually(t, "the outbox to drain", func() bool { return len(outbox(t, s, rdb)) == 0 })
	api.mu.Lock()
	posts := api.posts
	api.mu.Unlock()
	if posts != 2 {
		t.Errorf("%d posts, want 2 (one failed for good, one delivered)", posts)
	}
}

// A 429 whose Retry-After outlasts a delivery's lock: the deliverer gives
// the message back instead of sleeping on it, and the reply is posted once
// even with two replicas.
func TestDeliverLongRateLimitDoesNotDoublePost(t *testing.T) {
	s, _ := newTestStore(t)
	api := &fakeSlack{failPost: func(n int) (bool, error) {
		if n == 1 {
			return false, &slack.RateLimitedError{RetryAfter: 25 * time.Second}
		}
		return true, nil
	}}
	stop := runDeliverers(t, s, api, 2)
	defer stop()
	finishJob(t, s, 1001, xplenty.StatusCompleted)
	card := testRecord(1001).CardTS
	eventually(t, "the reply", func() bool { return api.replies(card) == 1 })
	time.Sleep(time.Second) // several claim periods: a duplicate would show
	if n := api.replies(card); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
}

// Card edits racing between replicas end with the card showing the job's
// last state, never an older one.
func TestDeliverCardEditsEndOnTheLatestState(t *testing.T) {
	s, rdb := newTestStore(t)
	api := &fakeSlack{slowUpdate: 30 * time.Millisecond}
	stop := runDeliverers(t, s, api, 3)
	defer stop()
	ctx := context.Background()
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 9; i++ {
		if _, err := s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusRunning, Progress: float64(i) / 10}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusCompleted, Progress: 1}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the card edits", func() bool { return len(cardsMarked(t, s, rdb)) == 0 })
	api.mu.Lock()
	final, updates := api.cardText[testRecord(1001).CardTS], api.updates
	api.mu.Unlock()
	if !strings.Contains(final, "completed") {
		t.Errorf("card ends as %q, want the completed state", final)
	}
	if updates > 11 {
		t.Errorf("%d card edits for 11 changes", updates)
	}
}
