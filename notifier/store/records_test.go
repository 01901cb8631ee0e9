package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/commands"
)

// Launches and confirmations written before they were typed records (the
// bot marshalled its own structs, the run under "launch" with Go field
// names) are read back whole: a rolling upgrade loses neither.
func TestIntentsAndPendingWrittenByTheOldBotAreRead(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t)
	asked := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	old := `{"channel":"C1","card_ts":"1700000000.000100","requester":"U1",` +
		`"launch":{"ClusterID":52,"PackageID":434,"Preset":"nightly","Variables":{"DATE":"2026-11-01","DB_PASSWORD":"hunter2"},` +
		`"DynamicVariables":{"NOW":"CurrentTime()"},"SecretNames":["DB_PASSWORD"],"RerunOf":1000},` +
		`"asked":"` + asked.Format(time.RFC3339Nano) + `"}`
	id := "C1:1700000000.000100"
	if err := rdb.Set(ctx, s.keys.Intent(id), s.sealer.seal("intent:"+id, old), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ZAdd(ctx, s.keys.Intents(), redis.Z{Score: float64(asked.UnixMilli()), Member: id}).Err(); err != nil {
		t.Fatal(err)
	}
	stale, err := s.StaleIntents(ctx, time.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	in := stale[id]
	want := commands.Run{ClusterID: 52, PackageID: 434, Preset: "nightly",
		Variables:        map[string]string{"DATE": "2026-11-01", "DB_PASSWORD": "hunter2"},
		DynamicVariables: map[string]string{"NOW": "CurrentTime()"}, SecretNames: []string{"DB_PASSWORD"}, RerunOf: 1000}
	if in == nil || in.ID() != id || in.Requester != "U1" || !in.Asked.Equal(asked) || !reflect.DeepEqual(in.Run, want) {
		t.Fatalf("old launch read as %+v, want its run %+v", in, want)
	}

	oldPending := `{"user":"U1","channel":"C1","action":"rerun","launch":{"ClusterID":52,"PackageID":434,"Variables":{"DATE":"x"},"RerunOf":1000}}`
	if err := rdb.Set(ctx, s.keys.Confirm("tok"), s.sealer.seal("pending:tok", oldPending), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	p, err := s.TakePending(ctx, "tok")
	if err != nil || p.User != "U1" || p.Channel != "C1" || p.Action != "rerun" || p.Run.ClusterID != 52 ||
		p.Run.PackageID != 434 || p.Run.Variables["DATE"] != "x" || p.Run.RerunOf != 1000 {
		t.Errorf("old confirmation read as %+v, %v", p, err)
	}
}
