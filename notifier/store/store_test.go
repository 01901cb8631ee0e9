package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

func newTestStore(t *testing.T) (*Store, redis.UniversalClient) {
	t.Helper()
	rdb, prefix := redistest.Client(t)
	s, err := New(rdb, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s, rdb
}

func testRecord(id int64) job.Record {
	return job.Record{
		JobID: id, Channel: "C1", CardTS: "1700000000.000100", Requester: "U1",
		Run:       commands.Run{ClusterID: 52, PackageID: 434, Variables: map[string]string{"DATE": "2026-11-01", "DB_PASSWORD": "hunter2"}, DynamicVariables: map[string]string{"NOW": "CurrentTime()"}},
		Status:    xplenty.StatusIdle,
		CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
	}
}

// cardsMarked returns the jobs whose card waits for an edit.
func cardsMarked(t *testing.T, s *Store, rdb redis.UniversalClient) []string {
	t.Helper()
	ids, err := rdb.ZRange(context.Background(), s.keys.Cards(), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// outbox returns the kinds of the queued messages, oldest first.
func outbox(t *testing.T, s *Store, rdb redis.UniversalClient) []string {
	t.Helper()
	msgs, err := rdb.XRange(context.Background(), s.keys.Outbox(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range msgs {
		kinds = append(kinds, m.Values["kind"].(string)+":"+m.Values["status"].(string))
	}
	return kinds
}

func TestTrackGetRoundTrip(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	want := testRecord(1001)
	want.SecretNames = []string{"API_TOKEN"}
	want.RerunOf = 1000
	want.HTMLURL = "https://app.xplenty.com/acme/jobs/1001"
	want.PackageName, want.ClusterName = "orders_daily", "prod-etl"
	want.PackageURL = "https://app.xplenty.com/acme/packages/434"
	if err := s.Track(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if got.Channel != want.Channel || got.CardTS != want.CardTS || got.Requester != want.Requester ||
		got.ClusterID != 52 || got.PackageID != 434 || got.RerunOf != 1000 || got.Status != xplenty.StatusIdle ||
		got.HTMLURL != want.HTMLURL || !got.CreatedAt.Equal(want.CreatedAt) ||
		got.PackageName != "orders_daily" || got.ClusterName != "prod-etl" || got.PackageURL != want.PackageURL {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	if got.Variables["DATE"] != "2026-11-01" || got.DynamicVariables["NOW"] != "CurrentTime()" || len(got.SecretNames) != 1 {
		t.Errorf("variables did not round-trip: %+v", got)
	}
	if _, err := s.Get(ctx, 999); !errors.Is(err, ErrNotTracked) {
		t.Errorf("Get(unknown) error = %v, want ErrNotTracked", err)
	}
	if n, _ := s.ActiveCount(ctx); n != 1 {
		t.Errorf("ActiveCount = %d, want 1", n)
	}
	if _, ok, _ := s.Since(ctx); !ok {
		t.Error("tracking the first job did not set the watcher's high-water mark")
	}
}

func TestTrackRejectsIncompleteRecords(t *testing.T) {
	s, _ := newTestStore(t)
	for _, r := range []job.Record{{Channel: "C1", CardTS: "1"}, {JobID: 1, CardTS: "1"}, {JobID: 1, Channel: "C1"}} {
		if err := s.Track(context.Background(), r); err == nil {
			t.Errorf("Track(%+v) succeeded, want an error", r)
		}
	}
}

func TestObserveTransitions(t *testing.T) {
	s, rdb := newTestStore(t)
	ctx := context.Background()
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		status   xplenty.Status
		progress float64
		want     Change
	}{
		{xplenty.StatusIdle, 0, Unchanged},
		{xplenty.StatusPending, 0, StatusChanged},
		{xplenty.StatusRunning, 0.05, StatusChanged},
		{xplenty.StatusRunning, 0.08, Unchanged},     // same tenth: no edit
		{xplenty.StatusRunning, 0.42, ProgressMoved}, // new tenth: one edit
		{xplenty.StatusCompleted, 1, Finished},       // the one reply
		{xplenty.StatusCompleted, 1, Unchanged},      // seen again: nothing
		{xplenty.StatusFailed, 1, Unchanged},         // terminal is final
		{xplenty.StatusRunning, 0.5, Unchanged},
	}
	for i, st := range steps {
		got, err := s.Observe(ctx, xplenty.Job{ID: 1001, Status: st.status, Progress: st.progress,
			RuntimeInSeconds: 422, Outputs: []xplenty.Output{{Name: "orders", RecordsCount: 12}}})
		if err != nil {
			t.Fatal(err)
		}
		if got != st.want {
			t.Errorf("step %d (%s %.2f): change = %v, want %v", i, st.status, st.progress, got, st.want)
		}
	}
	if got, want := outbox(t, s, rdb), []string{"reply:completed"}; !equal(got, want) {
		t.Errorf("outbox = %v, want %v", got, want)
	}
	if got := cardsMarked(t, s, rdb); len(got) != 1 || got[0] != "1001" {
		t.Errorf("cards marked = %v, want the one job", got)
	}
	r, err := s.Get(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != xplenty.StatusCompleted || r.Runtime != 422*time.Second || len(r.Outputs) != 1 || r.FinishedAt.IsZero() {
		t.Errorf("record after completion = %+v", r)
	}
	if n, _ := s.ActiveCount(ctx); n != 0 {
		t.Errorf("ActiveCount = %d after completion, want 0", n)
	}
	ttl, _ := rdb.TTL(ctx, s.keys.Job(1001)).Result()
	if ttl <= 0 || ttl > DefaultRetention {
		t.Errorf("finished record TTL = %v, want (0, %v]", ttl, DefaultRetention)
	}
}

func TestObserveIgnoresUntrackedJobs(t *testing.T) {
	s, rdb := newTestStore(t)
	got, err := s.Observe(context.Background(), xplenty.Job{ID: 77, Status: xplenty.StatusCompleted})
	if err != nil || got != Unchanged {
		t.Fatalf("Observe(untracked) = %v, %v", got, err)
	}
	if kinds := outbox(t, s, rdb); len(kinds) != 0 {
		t.Errorf("outbox = %v, want empty", kinds)
	}
	if n, _ := rdb.Exists(context.Background(), s.keys.Job(77)).Result(); n != 0 {
		t.Error("observing an untracked job created a record")
	}
}

// Many replicas and retries observing the same completion queue one reply.
func TestObserveConcurrentFinishQueuesOneReply(t *testing.T) {
	s, rdb := newTestStore(t)
	ctx := context.Background()
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	finished := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusFailed, Errors: "boom"})
			if err != nil {
				t.Error(err)
			}
			if ch == Finished {
				mu.Lock()
				finished++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if finished != 1 {
		t.Errorf("%d observers saw the job finish, want 1", finished)
	}
	replies := 0
	for _, k := range outbox(t, s, rdb) {
		if k == "reply:failed" {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d replies queued, want 1", replies)
	}
}

func TestStopRequestNamesWhoStopped(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestStop(ctx, 1001, "U2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusStopped}); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Get(ctx, 1001)
	if r.StoppedBy != "U2" || r.StopRequestedBy != "U2" {
		t.Errorf("StoppedBy = %q, StopRequestedBy = %q, want U2", r.StoppedBy, r.StopRequestedBy)
	}
	if err := s.RequestStop(ctx, 1001, "U3"); !errors.Is(err, ErrFinished) {
		t.Errorf("RequestStop(finished) = %v, want ErrFinished", err)
	}
	if err := s.RequestStop(ctx, 5, "U3"); !errors.Is(err, ErrNotTracked) {
		t.Errorf("RequestStop(unknown) = %v, want ErrNotTracked", err)
	}
}

func TestRecentNewestFirst(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for i := int64(0); i < 5; i++ {
		r := testRecord(1001 + i)
		r.CreatedAt = r.CreatedAt.Add(time.Duration(i) * time.Minute)
		if i == 2 {
			r.Channel = "C2"
		}
		if err := s.Track(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.Recent(ctx, "C1", 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range recs {
		ids = append(ids, r.JobID)
	}
	if want := []int64{1005, 1004, 1002}; !equal(ids, want) {
		t.Errorf("Recent(C1, 3) = %v, want %v", ids, want)
	}
}

func TestRecentByAndRunning(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for i := int64(0); i < 5; i++ {
		r := testRecord(1001 + i)
		r.CreatedAt = r.CreatedAt.Add(time.Duration(i) * time.Minute)
		r.Requester = "U1"
		if i%2 == 1 {
			r.Requester = "U2"
		}
		if err := s.Track(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Observe(ctx, xplenty.Job{ID: 1003, Status: xplenty.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.RecentBy(ctx, "U1", 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range recs {
		ids = append(ids, r.JobID)
	}
	if want := []int64{1005, 1003, 1001}; !equal(ids, want) {
		t.Errorf("RecentBy(U1) = %v, want %v", ids, want)
	}
	running, total, err := s.Running(ctx, 2)
	if err != nil || total != 4 || len(running) != 2 {
		t.Fatalf("Running(2) = %d records of %d, %v; want 2 of 4", len(running), total, err)
	}
	for _, r := range running {
		if r.JobID == 1003 {
			t.Errorf("Running holds the completed job")
		}
	}
}

func TestClaimOnce(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	first, err := s.Claim(ctx, "event:T1", time.Minute)
	if err != nil || !first {
		t.Fatalf("first Claim = %v, %v", first, err)
	}
	again, err := s.Claim(ctx, "event:T1", time.Minute)
	if err != nil || again {
		t.Fatalf("second Claim = %v, %v; want false", again, err)
	}
	if err := s.Release(ctx, "event:T1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Claim(ctx, "event:T1", time.Minute); !ok {
		t.Error("Claim after Release = false, want true")
	}
}

func TestLeaseHasOneHolder(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if ok, _ := s.Lease(ctx, "a", time.Minute); !ok {
		t.Fatal("a did not get a free lease")
	}
	if ok, _ := s.Lease(ctx, "b", time.Minute); ok {
		t.Fatal("b got a lease a holds")
	}
	if ok, _ := s.Lease(ctx, "a", time.Minute); !ok {
		t.Fatal("a could not renew its lease")
	}
	if err := s.ReleaseLease(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Lease(ctx, "b", time.Minute); ok {
		t.Fatal("b released a lease it did not hold")
	}
	if err := s.ReleaseLease(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Lease(ctx, "b", time.Minute); !ok {
		t.Fatal("b did not get the lease a released")
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSecretValuesAreEncryptedInRedis(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	s, err := New(rdb, Options{Prefix: prefix, SecretKey: []byte("api-key-1")})
	if err != nil {
		t.Fatal(err)
	}
	r := testRecord(1001)
	r.SecretNames = []string{"DB_PASSWORD"}
	if err := s.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SavePending(ctx, "tok", Pending{Run: commands.Run{Variables: map[string]string{"DB_PASSWORD": "hunter2"}}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	keys, err := redistest.ScanKeys(ctx, rdb, prefix+"*")
	if err != nil || len(keys) < 2 {
		t.Fatalf("the keys of the store: %q, %v", keys, err)
	}
	for _, k := range keys {
		dump, _ := rdb.Dump(ctx, k).Result()
		if strings.Contains(dump, "hunter2") {
			t.Errorf("key %s holds the secret in clear", k)
		}
	}
	got, err := s.Get(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if got.Variables["DB_PASSWORD"] != "hunter2" || got.Variables["DATE"] != "2026-11-01" || len(got.LostSecrets) != 0 {
		t.Errorf("Get = %+v, want the secret back for Re-run", got)
	}
	if p, err := s.TakePending(ctx, "tok"); err != nil || p.Run.Variables["DB_PASSWORD"] != "hunter2" {
		t.Errorf("TakePending = %+v, %v", p, err)
	}

	// Another key (the API key was rotated): the secret is lost, and says so.
	other, _ := New(rdb, Options{Prefix: prefix, SecretKey: []byte("api-key-2")})
	got, err = other.Get(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Variables["DB_PASSWORD"]; ok || len(got.LostSecrets) != 1 || got.Variables["DATE"] != "2026-11-01" {
		t.Errorf("Get with another key = %+v, want DB_PASSWORD lost and the rest intact", got)
	}
}

// A failed job whose errors Xplenty sends as an object (a Rails validation
// hash, with & written \u0026 as Rails' to_json does) holds the secret only
// in escaped form: neither Redis (field errors) nor the card may show it.
func TestEscapedSecretInFailedJobErrorsIsNeverStored(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Client(t)
	s, err := New(rdb, Options{Prefix: prefix, SecretKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	rec := testRecord(1001)
	rec.Variables["DB_PASSWORD"] = `Zq8vK&w7"Xk9`
	rec.SecretNames = []string{"DB_PASSWORD"}
	rec.Status = xplenty.StatusRunning
	if err := s.Track(ctx, rec); err != nil {
		t.Fatal(err)
	}
	var job xplenty.Job
	body := `{"id":1001,"status":"failed","cluster_id":52,"package_id":434,"progress":1,
	  "errors":{"base":["DB_PASSWORD value Zq8vK\u0026w7\"Xk9 was refused by the database"]}}`
	if err := json.Unmarshal([]byte(body), &job); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Observe(ctx, job); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rdb.HGet(ctx, prefix+"job:1001", "errors").Result()
	if err != nil {
		t.Fatal(err)
	}
	// "Xk9" is a piece of the secret only.
	if strings.Contains(got.Errors, "Xk9") || strings.Contains(raw, "Xk9") {
		t.Errorf("the secret's escaped echo is stored in Redis: %q", raw)
	}
	if !strings.Contains(raw, "DB_PASSWORD value "+render.Mask+" was refused") {
		t.Errorf("stored errors = %q, want the readable text with the secret masked", raw)
	}
	card := render.Card(got)
	b, err := json.Marshal(card.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(card.Text+string(b), "Xk9") {
		t.Errorf("the secret's escaped echo is on the card: %s", b)
	}
}

// After a quiet period, a new job moves the watcher's mark to its own time
// instead of leaving the watcher to read the whole quiet period.
func TestTrackMovesTheMarkWhenNothingIsFollowed(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	old := testRecord(1001)
	old.CreatedAt = time.Now().Add(-30 * 24 * time.Hour)
	if err := s.Track(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Observe(ctx, xplenty.Job{ID: 1001, Status: xplenty.StatusCompleted}); err != nil {
		t.Fatal(err)
	}
	fresh := testRecord(1002)
	fresh.CreatedAt = time.Now().UTC().Truncate(time.Second)
	if err := s.Track(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	since, _, _ := s.Since(ctx)
	if want := fresh.CreatedAt.Add(-time.Minute); !since.Equal(want) {
		t.Errorf("mark = %v, want %v", since, want)
	}
	// While a job is followed, a newer one leaves the mark alone.
	newer := testRecord(1003)
	newer.CreatedAt = fresh.CreatedAt.Add(time.Hour)
	if err := s.Track(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := s.Since(ctx); !again.Equal(since) {
		t.Errorf("mark moved to %v while job 1002 is followed", again)
	}
}

func TestTrackDoesNotTakeOverAnotherCard(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	r := testRecord(1001)
	if err := s.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Track(ctx, r); err != nil {
		t.Errorf("tracking the same card again: %v", err)
	}
	other := r
	other.CardTS = "1700000099.000100"
	if err := s.Track(ctx, other); !errors.Is(err, ErrAlreadyTracked) {
		t.Errorf("tracking for another card: %v, want ErrAlreadyTracked", err)
	}
	if got, _ := s.Get(ctx, 1001); got.CardTS != r.CardTS {
		t.Errorf("card ts = %s, want the first card's", got.CardTS)
	}
}

func TestJobXplentyNoLongerKnowsIsGivenUpOnce(t *testing.T) {
	s, rdb := newTestStore(t)
	ctx := context.Background()
	if err := s.Track(ctx, testRecord(1001)); err != nil {
		t.Fatal(err)
	}
	var gaveUp []bool
	for i := 0; i < lostAfter+2; i++ {
		g, err := s.Missed(ctx, 1001)
		if err != nil {
			t.Fatal(err)
		}
		gaveUp = append(gaveUp, g)
	}
	if want := []bool{false, false, true, false, false}; !equal(gaveUp, want) {
		t.Errorf("gave up = %v, want %v", gaveUp, want)
	}
	if n, _ := s.ActiveCount(ctx); n != 0 {
		t.Errorf("still following the lost job")
	}
	if got := outbox(t, s, rdb); !equal(got, []string{"reply:lost"}) {
		t.Errorf("outbox = %v, want one note", got)
	}
	// A sighting in between resets the count.
	if err := s.Track(ctx, testRecord(1002)); err != nil {
		t.Fatal(err)
	}
	s.Missed(ctx, 1002)
	s.Missed(ctx, 1002)
	if _, err := s.Observe(ctx, xplenty.Job{ID: 1002, Status: xplenty.StatusIdle}); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.Missed(ctx, 1002); g {
		t.Error("gave up although Xplenty answered in between")
	}
}

// A job given up (lost, or unreadable) that later shows up in the change
// list and ends gets no second reply: its thread already says the bot
// stopped following it, and a reply after that note would read out of
// order.
func TestGivenUpJobThatEndsLaterIsIgnored(t *testing.T) {
	s, rdb := newTestStore(t)
	ctx := context.Background()
	for _, id := range []int64{1001, 1002} {
		if err := s.Track(ctx, testRecord(id)); err != nil {
			t.Fatal(err)
		}
	}
	for range lostAfter {
		if _, err := s.Missed(ctx, 1001); err != nil {
			t.Fatal(err)
		}
	}
	for range UnreadableAfter {
		if _, _, err := s.ReadFailed(ctx, 1002, "HTTP 500", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []int64{1001, 1002} {
		if ch, err := s.Observe(ctx, xplenty.Job{ID: id, Status: xplenty.StatusCompleted, Progress: 1}); err != nil || ch != Unchanged {
			t.Errorf("job %d, given up, then completed: %v, %v; want Unchanged", id, ch, err)
		}
	}
	if got := outbox(t, s, rdb); !equal(got, []string{"reply:lost", "reply:unreadable"}) {
		t.Errorf("outbox = %v, want only the two notes", got)
	}
	if n, _ := rdb.ZCard(ctx, s.keys.Cards()).Result(); n != 0 {
		t.Errorf("%d cards due for given-up jobs", n)
	}
}
