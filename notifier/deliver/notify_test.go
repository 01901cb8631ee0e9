package deliver

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/store"
	"github.com/runjob/runjob/xplenty"
)

// isDelivered reports whether the reply to job id for st is marked
// delivered.
func isDelivered(t *testing.T, s *store.Store, id int64, st xplenty.Status) bool {
	t.Helper()
	done, err := s.Delivered(context.Background(), id, st)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func setNotify(t *testing.T, s *store.Store, channel string, c commands.Notify) {
	t.Helper()
	if _, _, err := s.SetNotify(context.Background(), channel, c); err != nil {
		t.Fatal(err)
	}
}

// kinds records what OnDelivered was told of thread messages (not card
// edits), by job.
type kinds struct {
	mu sync.Mutex
	m  map[int64][]string
}

func (k *kinds) add(kind string, id int64, _ xplenty.Status) {
	if kind == "card" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[int64][]string{}
	}
	k.m[id] = append(k.m[id], kind)
}

func (k *kinds) of(id int64) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.m[id]...)
}

// runObserved is runDeliverers with one deliverer whose OnDelivered
// reports to k.
func runObserved(t *testing.T, s *store.Store, api SlackAPI, k *kinds) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := NewDeliverer(s, NewPoster(api, PosterOptions{ChannelBurst: 100, ChannelRate: 1000}), DelivererOptions{
		Consumer: "r0", ClaimIdle: 300 * time.Millisecond, Block: 50 * time.Millisecond, OnDelivered: k.add,
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	return func() { cancel(); <-done }
}

// endIn tracks job id in channel and ends it with st.
func endIn(t *testing.T, s *store.Store, id int64, channel string, st xplenty.Status) string {
	t.Helper()
	r := testRecord(id)
	r.Channel = channel
	r.CardTS = "1700000000.00" + string(rune('0'+id%10)) + "000"
	if err := s.Track(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Observe(context.Background(), xplenty.Job{ID: id, Status: st}); err != nil {
		t.Fatal(err)
	}
	return r.CardTS
}

func (f *fakeSlack) inThread(thread string) []slack.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slack.Message
	for _, m := range f.msgs {
		if m.ThreadTimestamp == thread {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeSlack) in(channel string) []slack.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []slack.Message
	for _, m := range f.msgs {
		if m.Channel == channel {
			out = append(out, m)
		}
	}
	return out
}

// Each level lets through what it names; what it leaves out is marked
// delivered without a post (and told to OnDelivered as skipped), so it is
// never posted later.
func TestDeliverHearsWhatTheLevelSays(t *testing.T) {
	s, rdb := newTestStore(t)
	api := &fakeSlack{}
	var k kinds
	stop := runObserved(t, s, api, &k)
	defer stop()
	setNotify(t, s, "CFAIL", commands.Notify{Level: commands.NotifyFailures})
	setNotify(t, s, "COFF", commands.Notify{Level: commands.NotifyOff})

	for _, tc := range []struct {
		id      int64
		channel string
		status  xplenty.Status
		posted  bool
	}{
		{1001, "CALL", xplenty.StatusCompleted, true},
		{1002, "CFAIL", xplenty.StatusCompleted, false},
		{1003, "CFAIL", xplenty.StatusFailed, true},
		{1004, "CFAIL", xplenty.StatusStopped, true},
		{1005, "COFF", xplenty.StatusFailed, false},
		{1006, "COFF", xplenty.StatusCompleted, false},
	} {
		thread := endIn(t, s, tc.id, tc.channel, tc.status)
		eventually(t, "the reply to be dealt with", func() bool { return len(k.of(tc.id)) > 0 })
		want := "skipped"
		if tc.posted {
			want = "reply"
		}
		if got := k.of(tc.id); got[0] != want {
			t.Errorf("job %d (%s in %s): OnDelivered %v, want %s", tc.id, tc.status, tc.channel, got, want)
		}
		wantPosts := 0
		if tc.posted {
			wantPosts = 1
		}
		if n := len(api.inThread(thread)); n != wantPosts {
			t.Errorf("job %d (%s in %s): %d replies, want posted=%v", tc.id, tc.status, tc.channel, n, tc.posted)
		}
		if !isDelivered(t, s, tc.id, tc.status) {
			t.Errorf("job %d: not marked delivered", tc.id)
		}
	}
	// The watchdog's notes: heard at failures, not when off.
	for _, tc := range []struct {
		id      int64
		channel string
		posted  bool
	}{{1007, "CFAIL", true}, {1008, "COFF", false}} {
		r := testRecord(tc.id)
		r.Channel, r.CardTS = tc.channel, "1700000009.00"+string(rune('0'+tc.id%10))+"000"
		if err := s.Track(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Observe(context.Background(), xplenty.Job{ID: tc.id, Status: xplenty.StatusQueued}); err != nil {
			t.Fatal(err)
		}
		if queued, err := s.Note(context.Background(), tc.id, job.StatusQueuedLong, xplenty.StatusQueued, time.Hour); err != nil || !queued {
			t.Fatalf("Note = %v, %v", queued, err)
		}
		eventually(t, "the note to be dealt with", func() bool { return len(k.of(tc.id)) > 0 })
		if n := len(api.inThread(r.CardTS)); (n == 1) != tc.posted {
			t.Errorf("job %d in %s: %d notes, want posted=%v", tc.id, tc.channel, n, tc.posted)
		}
	}
	eventually(t, "the outbox to drain", func() bool { return len(outbox(t, s, rdb)) == 0 })
}

// broadcast=failures sends failure replies to the channel too; mention=off
// mentions nobody.
func TestDeliverBroadcastAndMention(t *testing.T) {
	s, _ := newTestStore(t)
	api := &fakeSlack{}
	var k kinds
	stop := runObserved(t, s, api, &k)
	defer stop()
	setNotify(t, s, "C1", commands.Notify{Broadcast: commands.NotifyFailures, Mention: commands.MentionOff})

	failed := endIn(t, s, 1001, "C1", xplenty.StatusFailed)
	completed := endIn(t, s, 1002, "C1", xplenty.StatusCompleted)
	loud := endIn(t, s, 1003, "C2", xplenty.StatusFailed)
	eventually(t, "three replies", func() bool {
		return len(api.inThread(failed)) == 1 && len(api.inThread(completed)) == 1 && len(api.inThread(loud)) == 1
	})
	api.mu.Lock()
	defer api.mu.Unlock()
	f, c, l := api.inThreadLocked(failed), api.inThreadLocked(completed), api.inThreadLocked(loud)
	if !api.broadcast[f.Timestamp] || api.broadcast[c.Timestamp] || api.broadcast[l.Timestamp] {
		t.Errorf("broadcast: failed %v, completed %v, other channel %v; want only the failure in C1",
			api.broadcast[f.Timestamp], api.broadcast[c.Timestamp], api.broadcast[l.Timestamp])
	}
	if strings.Contains(f.Text+c.Text, "<@") {
		t.Errorf("mention=off replies mention someone: %q, %q", f.Text, c.Text)
	}
	if !strings.Contains(l.Text, "<@U1>") {
		t.Errorf("a reply in a channel with the defaults does not mention the requester: %q", l.Text)
	}
}

func (f *fakeSlack) inThreadLocked(thread string) slack.Message {
	for _, m := range f.msgs {
		if m.ThreadTimestamp == thread {
			return m
		}
	}
	return slack.Message{}
}

// The card's channel refuses the reply for good: it goes to the requester
// as a direct message, once, saying which channel it was for, even with
// several deliverers.
func TestDeliverGoneChannelSendsOneDirectMessage(t *testing.T) {
	for _, code := range []string{"is_archived", "channel_not_found", "not_in_channel"} {
		t.Run(code, func(t *testing.T) {
			s, rdb := newTestStore(t)
			api := &fakeSlack{}
			gone := &goneSlack{fakeSlack: api, gone: "C1", code: code}
			stop := runDeliverers(t, s, gone, 3)
			defer stop()
			thread := endIn(t, s, 1001, "C1", xplenty.StatusFailed)
			eventually(t, "the direct message", func() bool { return len(api.in("U1")) == 1 })
			eventually(t, "the outbox to drain", func() bool { return len(outbox(t, s, rdb)) == 0 })
			time.Sleep(400 * time.Millisecond) // longer than ClaimIdle: a duplicate would show
			dms := api.in("U1")
			if len(dms) != 1 || len(api.inThread(thread)) != 0 {
				t.Fatalf("%d direct messages and %d thread replies, want 1 and 0", len(dms), len(api.inThread(thread)))
			}
			if !strings.Contains(dms[0].Text, "<#C1>") || !strings.Contains(dms[0].Text, "1001") || !strings.Contains(dms[0].Text, "failed") {
				t.Errorf("direct message %q does not say which channel and job it was for", dms[0].Text)
			}
			if dms[0].ThreadTimestamp != "" {
				t.Errorf("direct message posted in a thread %s", dms[0].ThreadTimestamp)
			}
			if v := rdb.Get(context.Background(), s.Keys().Delivered(1001, xplenty.StatusFailed)).Val(); v != store.DeliveredDM+dms[0].Timestamp {
				t.Errorf("delivered marker = %q, want the direct message's", v)
			}
		})
	}
}

// The direct message's answer is lost (Slack may have sent it): the retry
// does not send it again, and the reply is marked delivered.
func TestDeliverDirectMessageNeverTwice(t *testing.T) {
	s, rdb := newTestStore(t)
	api := &fakeSlack{}
	dmPosts := 0
	gone := &goneSlack{fakeSlack: api, gone: "C1", code: "is_archived", dm: func() (bool, error) {
		dmPosts++
		return true, slack.StatusCodeError{Code: 502, Status: "502 Bad Gateway"}
	}}
	var k kinds
	stop := runObserved(t, s, gone, &k)
	defer stop()
	endIn(t, s, 1001, "C1", xplenty.StatusStopped)
	eventually(t, "the reply to be marked delivered", func() bool { return isDelivered(t, s, 1001, xplenty.StatusStopped) })
	eventually(t, "the outbox to drain", func() bool { return len(outbox(t, s, rdb)) == 0 })
	if n := len(api.in("U1")); n != 1 {
		t.Errorf("%d direct messages, want 1", n)
	}
	if got := k.of(1001); len(got) != 1 || got[0] != "dm" {
		t.Errorf("OnDelivered %v, want dm once", got)
	}
}

// A direct message Slack certainly did not send (rate limited) is tried
// again, and sent once.
func TestDeliverDirectMessageRetriedWhenNotSent(t *testing.T) {
	s, _ := newTestStore(t)
	api := &fakeSlack{}
	tries := 0
	gone := &goneSlack{fakeSlack: api, gone: "C1", code: "not_in_channel", dm: func() (bool, error) {
		tries++
		if tries == 1 {
			return false, &slack.RateLimitedError{RetryAfter: 25 * time.Second}
		}
		return true, nil
	}}
	stop := runDeliverers(t, s, gone, 2)
	defer stop()
	endIn(t, s, 1001, "C1", xplenty.StatusFailed)
	eventually(t, "the direct message", func() bool { return len(api.in("U1")) == 1 })
	time.Sleep(time.Second) // several claim periods: a duplicate would show
	if n := len(api.in("U1")); n != 1 {
		t.Errorf("%d direct messages, want 1", n)
	}
}

// A channel that left out a reply does not get it as a direct message
// either.
func TestDeliverSkippedIsNotSentAnywhere(t *testing.T) {
	s, _ := newTestStore(t)
	api := &fakeSlack{}
	gone := &goneSlack{fakeSlack: api, gone: "C1", code: "is_archived"}
	var k kinds
	stop := runObserved(t, s, gone, &k)
	defer stop()
	setNotify(t, s, "C1", commands.Notify{Level: commands.NotifyOff})
	endIn(t, s, 1001, "C1", xplenty.StatusFailed)
	eventually(t, "the reply to be dealt with", func() bool { return len(k.of(1001)) > 0 })
	api.mu.Lock()
	posts := api.posts
	api.mu.Unlock()
	if posts != 0 {
		t.Errorf("%d posts, want none", posts)
	}
}

// goneSlack is fakeSlack where the channel gone refuses every post with
// code, and posts to a user id (direct messages) go through dm when set.
type goneSlack struct {
	*fakeSlack
	gone, code string
	dm         func() (store bool, err error)
}

func (g *goneSlack) PostMessageContext(ctx context.Context, channel string, opts ...slack.MsgOption) (string, string, error) {
	if channel == g.gone {
		return "", "", slack.SlackErrorResponse{Err: g.code}
	}
	if g.dm != nil && strings.HasPrefix(channel, "U") {
		g.fakeSlack.mu.Lock()
		keep, err := g.dm()
		g.fakeSlack.mu.Unlock()
		if !keep {
			return "", "", err
		}
		_, ts, perr := g.fakeSlack.PostMessageContext(ctx, channel, opts...)
		if perr != nil {
			return "", "", errors.Join(perr, err)
		}
		return channel, ts, err
	}
	return g.fakeSlack.PostMessageContext(ctx, channel, opts...)
}
