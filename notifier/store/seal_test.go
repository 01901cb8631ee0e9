package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/notifier/redistest"
	"github.com/runjob/runjob/notifier/render"
	"github.com/runjob/runjob/xplenty"
)

func storeWith(t *testing.T, rdb redis.UniversalClient, prefix string, opts Options) *Store {
	t.Helper()
	opts.Prefix = prefix
	s, err := New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawSpec is the spec field of a job as Redis holds it.
func rawSpec(t *testing.T, rdb redis.UniversalClient, s *Store, id int64) string {
	t.Helper()
	v, err := rdb.HGet(context.Background(), s.keys.Job(id), fSpec).Result()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A plain value that happens to start like a sealed one is a plain value:
// which values are sealed is recorded, not guessed from their text.
func TestPlainValueThatLooksSealedStaysPlain(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	s := storeWith(t, rdb, prefix, Options{SecretKey: []byte("runjob-secret-key-0123456789abcdef")})
	r := testRecord(1001)
	r.SecretNames = []string{"DB_PASSWORD"}
	r.Variables["NOTE"] = "sealed:v1:not-really"
	r.DynamicVariables["EXPR"] = "sealed:v2:0000:also-not"
	if err := s.Track(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(context.Background(), 1001)
	if err != nil {
		t.Fatal(err)
	}
	if got.Variables["NOTE"] != "sealed:v1:not-really" || got.DynamicVariables["EXPR"] != "sealed:v2:0000:also-not" ||
		got.Variables["DB_PASSWORD"] != "hunter2" || len(got.LostSecrets) != 0 {
		t.Errorf("Get = vars %v dyn %v lost %v, want the plain values as given", got.Variables, got.DynamicVariables, got.LostSecrets)
	}
}

// Every sealed value names its key; a rotation keeps values sealed with the
// previous key readable, and a key that is gone loses them visibly.
func TestSealedValuesNameTheirKeyAndSurviveRotation(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	oldKey, newKey := []byte("old-secret-key-0123456789abcdefgh"), []byte("new-secret-key-0123456789abcdefgh")
	before := storeWith(t, rdb, prefix, Options{SecretKey: oldKey})
	r := testRecord(1001)
	r.SecretNames = []string{"DB_PASSWORD"}
	if err := before.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	sealed := regexp.MustCompile(`"DB_PASSWORD":"sealed:v2:([0-9a-f]{8}):[A-Za-z0-9+/]+"`)
	m := sealed.FindStringSubmatch(rawSpec(t, rdb, before, 1001))
	if m == nil {
		t.Fatalf("spec %s: no sealed:v2:<key id>: value for DB_PASSWORD", rawSpec(t, rdb, before, 1001))
	}
	oldKID := m[1]

	during := storeWith(t, rdb, prefix, Options{SecretKey: newKey, PreviousSecretKey: oldKey})
	got, err := during.Get(ctx, 1001)
	if err != nil || got.Variables["DB_PASSWORD"] != "hunter2" || len(got.LostSecrets) != 0 {
		t.Errorf("Get during the rotation = %v, lost %v, %v; want the value", got.Variables, got.LostSecrets, err)
	}
	r2 := testRecord(1002)
	r2.SecretNames = []string{"DB_PASSWORD"}
	if err := during.Track(ctx, r2); err != nil {
		t.Fatal(err)
	}
	m2 := sealed.FindStringSubmatch(rawSpec(t, rdb, during, 1002))
	if m2 == nil || m2[1] == oldKID {
		t.Errorf("new values are sealed with key id %v, want the new key's (not %s)", m2, oldKID)
	}

	after := storeWith(t, rdb, prefix, Options{SecretKey: newKey})
	got, err = after.Get(ctx, 1001)
	if err != nil || got.Variables["DATE"] != "2026-11-01" || !slices.Equal(got.LostSecrets, []string{"DB_PASSWORD"}) {
		t.Errorf("Get after the previous key was dropped = %v, lost %v, %v; want DB_PASSWORD lost", got.Variables, got.LostSecrets, err)
	}
	if got, err := after.Get(ctx, 1002); err != nil || got.Variables["DB_PASSWORD"] != "hunter2" {
		t.Errorf("Get of a job sealed with the new key = %v, %v", got.Variables, err)
	}
}

// A sealed value is bound to its job: copied into another job's record, it
// does not open.
func TestSealedValueIsBoundToItsJob(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	s := storeWith(t, rdb, prefix, Options{SecretKey: []byte("runjob-secret-key-0123456789abcdef")})
	r := testRecord(1001)
	r.SecretNames = []string{"DB_PASSWORD"}
	if err := s.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, s.keys.Job(1002), fSpec, rawSpec(t, rdb, s, 1001), fStatus, "running").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, 1002)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Variables["DB_PASSWORD"]; ok || !slices.Equal(got.LostSecrets, []string{"DB_PASSWORD"}) {
		t.Errorf("a value moved to another job opened: %v, lost %v", got.Variables, got.LostSecrets)
	}
}

// sealV1 seals as the bot did before key ids: AES-256-GCM with a key hashed
// from the Xplenty API key, the variable's kind and name as label.
func sealV1(t *testing.T, apiKey, label, value string) string {
	t.Helper()
	key := sha256.Sum256(append([]byte("runjob secret variables v1\x00"), apiKey...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return "sealed:v1:" + base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(value), []byte(label)))
}

// Records written by the previous version (v1 values in place, no layout
// version) still re-run after an upgrade, also when RUNJOB_SECRET_KEY is set
// at the same time; and launches and confirmations sealed with v1 open too.
func TestRecordsOfThePreviousVersionStillOpen(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	const apiKey = "xplenty-api-key"
	old := map[string]any{
		"channel": "C1", "card_ts": "1700000000.000100", "requester": "U1", "cluster_id": 52, "package_id": 434,
		"variables": map[string]string{
			"DATE": "2026-11-01", "DB_PASSWORD": sealV1(t, apiKey, "var:DB_PASSWORD", "hunter2"),
			// Not secret, so never sealed by v1 either: stays as it is.
			"NOTE": "sealed:v1:plain",
		},
		"dynamic_variables": map[string]string{"TOKEN_EXPR": sealV1(t, apiKey, "dyn:TOKEN_EXPR", "Secret()")},
		"secret_names":      []string{"DB_PASSWORD", "TOKEN_EXPR"},
		"created_at":        "2026-11-28T10:00:00Z",
	}
	raw, _ := json.Marshal(old)
	s := storeWith(t, rdb, prefix, Options{SecretKey: []byte("dedicated-secret-key-0123456789ab"), LegacySecretKey: []byte(apiKey)})
	if err := rdb.HSet(ctx, s.keys.Job(1001), fSpec, raw, fStatus, "completed").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if got.Variables["DB_PASSWORD"] != "hunter2" || got.DynamicVariables["TOKEN_EXPR"] != "Secret()" ||
		got.Variables["NOTE"] != "sealed:v1:plain" || got.Variables["DATE"] != "2026-11-01" || len(got.LostSecrets) != 0 {
		t.Errorf("Get of a v1 record = vars %v dyn %v lost %v", got.Variables, got.DynamicVariables, got.LostSecrets)
	}
	if err := rdb.Set(ctx, s.keys.Confirm("tok"), sealV1(t, apiKey, "pending:tok", `{"user":"U1"}`), 0).Err(); err != nil {
		t.Fatal(err)
	}
	if p, err := s.TakePending(ctx, "tok"); err != nil || p.User != "U1" {
		t.Errorf("TakePending of a v1 confirmation = %+v, %v", p, err)
	}
}

// Xplenty's errors text for a failed job may echo its secret values; it is
// scrubbed before it is stored, so Redis never holds them in clear.
func TestObservedErrorsAreScrubbedBeforeTheyAreStored(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	s := storeWith(t, rdb, prefix, Options{SecretKey: []byte("runjob-secret-key-0123456789abcdef")})
	r := testRecord(1001)
	r.Variables["DB_PASSWORD"] = "hunter2  spaced"
	r.SecretNames = []string{"DB_PASSWORD"}
	if err := s.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	job := xplenty.Job{ID: 1001, Status: xplenty.StatusFailed, Errors: "login failed for password hunter2  spaced on db"}
	if _, err := s.Observe(ctx, job); err != nil {
		t.Fatal(err)
	}
	stored, err := rdb.HGet(ctx, s.keys.Job(1001), fErrors).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := "login failed for password " + render.Mask + " on db"; stored != want {
		t.Errorf("stored errors = %q, want %q", stored, want)
	}
}

// Moving from the key derived from the Xplenty API key (RUNJOB_SECRET_KEY
// unset) to RUNJOB_SECRET_KEY loses nothing: the API key, which the bot
// always has, still opens what it sealed, whatever its length.
func TestValuesSealedWithTheAPIKeyOpenAfterMovingToASecretKey(t *testing.T) {
	rdb, prefix := redistest.Client(t)
	ctx := context.Background()
	apiKey := []byte("short-api-k") // API keys were never held to RUNJOB_SECRET_KEY's length
	before := storeWith(t, rdb, prefix, Options{SecretKey: apiKey, LegacySecretKey: apiKey})
	r := testRecord(1001)
	r.SecretNames = []string{"DB_PASSWORD"}
	if err := before.Track(ctx, r); err != nil {
		t.Fatal(err)
	}
	after := storeWith(t, rdb, prefix, Options{SecretKey: []byte("new-secret-key-0123456789abcdefgh"), LegacySecretKey: apiKey})
	got, err := after.Get(ctx, 1001)
	if err != nil || got.Variables["DB_PASSWORD"] != "hunter2" || len(got.LostSecrets) != 0 {
		t.Errorf("Get after moving to RUNJOB_SECRET_KEY = %v, lost %v, %v; want the value", got.Variables, got.LostSecrets, err)
	}
}
