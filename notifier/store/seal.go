package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/runjob/runjob/notifier/job"
	"github.com/runjob/runjob/notifier/render"
)

// Sealed values look like "sealed:v2:<key id>:<base64 of nonce and
// AES-256-GCM ciphertext>". The key id names the key that sealed the value,
// so that after a rotation the right key is tried (and a value sealed with
// a key that is gone is told apart from a damaged one). v1 values
// ("sealed:v1:<base64>", a key hashed from the Xplenty API key with
// SHA-256, no key id) are still opened, never written.
const (
	sealedV2Prefix = "sealed:v2:"
	sealedV1Prefix = "sealed:v1:"
)

// HKDF parameters: the salt and info strings separate this use of the key
// from any other, and the key id from the encryption key.
const (
	hkdfSalt    = "runjob sealing"
	hkdfInfoKey = "runjob secret values v2 aes-256-gcm"
	hkdfInfoKID = "runjob secret values v2 key id"
	kidLen      = 4 // bytes; shown as 8 hex digits
)

// errUnsealable is returned for a sealed value that cannot be opened (the
// key is gone, or the data was altered).
var errUnsealable = errors.New("sealed value cannot be opened with the keys configured")

// sealer encrypts the values of secret variables before they are written to
// Redis, so that a copy of the database (a backup, an RDB file, a MONITOR
// session) does not hold them in clear. Re-run needs the values back, so
// they are encrypted, not hashed.
type sealer struct {
	kid    string                 // the current key's id: every new value is sealed with it
	byKID  map[string]cipher.AEAD // the current and the previous key, by id
	legacy []cipher.AEAD          // v1 derivations, to open values written before v2
}

// newSealer derives AES-256-GCM keys with HKDF: current seals and opens,
// previous and legacy only open (a rotation in progress, and values sealed
// with the Xplenty API key before RUNJOB_SECRET_KEY was set), and every key
// given also opens v1 values, derived as v1 did. A nil current key means no
// sealing.
func newSealer(current, previous, legacy []byte) (*sealer, error) {
	if len(current) == 0 {
		return nil, nil
	}
	s := &sealer{byKID: map[string]cipher.AEAD{}}
	// The legacy key opens v2 values too: it is the Xplenty API key, which
	// sealed them while RUNJOB_SECRET_KEY was unset.
	for i, secret := range [][]byte{current, previous, legacy} {
		if len(secret) == 0 {
			continue
		}
		kid, aead, err := deriveV2(secret)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			s.kid = kid
		}
		if _, dup := s.byKID[kid]; !dup {
			s.byKID[kid] = aead
		}
	}
	for _, secret := range [][]byte{legacy, current, previous} {
		if len(secret) == 0 {
			continue
		}
		key := sha256.Sum256(append([]byte("runjob secret variables v1\x00"), secret...))
		aead, err := newGCM(key[:])
		if err != nil {
			return nil, err
		}
		s.legacy = append(s.legacy, aead)
	}
	return s, nil
}

func deriveV2(secret []byte) (string, cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, secret, []byte(hkdfSalt), hkdfInfoKey, 32)
	if err != nil {
		return "", nil, err
	}
	id, err := hkdf.Key(sha256.New, secret, []byte(hkdfSalt), hkdfInfoKID, kidLen)
	if err != nil {
		return "", nil, err
	}
	aead, err := newGCM(key)
	return hex.EncodeToString(id), aead, err
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts value; ad (what the value belongs to: the job and the
// variable, or the launch or confirmation) is authenticated with it, so a
// sealed value cannot be moved to another variable or another job.
func (s *sealer) seal(ad, value string) string {
	if s == nil {
		return value
	}
	aead := s.byKID[s.kid]
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand, Go 1.24+)
	out := aead.Seal(nonce, nonce, []byte(value), []byte(ad))
	return sealedV2Prefix + s.kid + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// open reverses seal for a value known to be sealed (v2, or v1 with its v1
// label). It never guesses: a value without a sealed prefix is an error.
func (s *sealer) open(ad, v1Label, value string) (string, error) {
	if s == nil {
		return "", errUnsealable
	}
	if rest, ok := strings.CutPrefix(value, sealedV2Prefix); ok {
		kid, data, ok := strings.Cut(rest, ":")
		aead := s.byKID[kid]
		if !ok || aead == nil {
			return "", errUnsealable
		}
		return openGCM(aead, ad, data)
	}
	if rest, ok := strings.CutPrefix(value, sealedV1Prefix); ok {
		for _, aead := range s.legacy {
			if plain, err := openGCM(aead, v1Label, rest); err == nil {
				return plain, nil
			}
		}
	}
	return "", errUnsealable
}

// knowsKey reports whether value is not sealed with a key unknown here:
// false only for a v2 value whose key id is none of this sealer's (a key
// another replica may have, during a rotation).
func (s *sealer) knowsKey(value string) bool {
	rest, ok := strings.CutPrefix(value, sealedV2Prefix)
	if !ok {
		return true
	}
	kid, _, _ := strings.Cut(rest, ":")
	return s != nil && s.byKID[kid] != nil
}

func openGCM(aead cipher.AEAD, ad, data string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(data)
	n := aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", errUnsealable
	}
	plain, err := aead.Open(nil, raw[:n], raw[n:], []byte(ad))
	if err != nil {
		return "", errUnsealable
	}
	return string(plain), nil
}

// openBlob opens a whole sealed document (a launch, a confirmation). They
// are JSON, which never starts with "sealed:", so a document written
// without a key (or before sealing existed) is told apart for sure.
func (s *sealer) openBlob(ad, value string) (string, error) {
	if !strings.HasPrefix(value, sealedV2Prefix) && !strings.HasPrefix(value, sealedV1Prefix) {
		return value, nil
	}
	return s.open(ad, ad, value) // v1 used the same label for documents
}

// specVersion is the layout of a job's stored spec: since 2, sealed values
// are kept apart from plain ones (spec.SealedVariables), so whether a value
// is sealed is recorded, never guessed from its text. 0 is the layout
// before: sealed values sat among the plain ones with a "sealed:v1:" prefix.
const specVersion = 2

// sealVars splits m into the plain values and the sealed values of the
// secret names. Without a key nothing is sealed.
func (s *sealer) sealVars(kind string, jobID int64, m map[string]string, secret []string) (plain, sealed map[string]string) {
	if s == nil || len(m) == 0 {
		return m, nil
	}
	for k, v := range m {
		if !render.IsSecret(k, secret) {
			if plain == nil {
				plain = make(map[string]string, len(m))
			}
			plain[k] = v
			continue
		}
		if sealed == nil {
			sealed = make(map[string]string)
		}
		sealed[k] = s.seal(varAD(kind, jobID, k), v)
	}
	return plain, sealed
}

// openVars returns the values of one kind of variables from a stored spec,
// and the names of the secret ones it could not open (they are left out).
func (s *sealer) openVars(kind string, jobID int64, version int, plain, sealed map[string]string, secret []string) (map[string]string, []string) {
	var out map[string]string
	var lost []string
	put := func(k, v string) {
		if out == nil {
			out = make(map[string]string, len(plain)+len(sealed))
		}
		out[k] = v
	}
	for k, v := range plain {
		if version < specVersion && strings.HasPrefix(v, sealedV1Prefix) && render.IsSecret(k, secret) {
			// The v1 layout: only a secret variable's value was ever
			// sealed, in place.
			var err error
			if v, err = s.open("", kind+":"+k, v); err != nil {
				lost = append(lost, k)
				continue
			}
		}
		put(k, v)
	}
	for k, v := range sealed {
		p, err := s.open(varAD(kind, jobID, k), "", v)
		if err != nil {
			lost = append(lost, k)
			continue
		}
		put(k, p)
	}
	return out, lost
}

// varAD binds a sealed variable to its job and its name.
func varAD(kind string, jobID int64, name string) string {
	return kind + ":" + strconv.FormatInt(jobID, 10) + ":" + name
}

// newSpec is the stored form of a record's fixed part, secret values sealed
// (bound to the job and the variable) and kept apart from the plain ones.
func (s *sealer) newSpec(r job.Record) spec {
	sp := spec{
		Version: specVersion,
		Channel: r.Channel, CardTS: r.CardTS, Requester: r.Requester,
		ClusterID: r.ClusterID, PackageID: r.PackageID, Preset: r.Preset,
		PackageName: r.PackageName, ClusterName: r.ClusterName, PackageURL: r.PackageURL,
		SecretNames: r.SecretNames, RerunOf: r.RerunOf, CreatedAt: r.CreatedAt.UTC(),
		MaxRuntimeMS: r.MaxRuntime.Milliseconds(),
	}
	sp.Variables, sp.SealedVariables = s.sealVars("var", r.JobID, r.Variables, r.SecretNames)
	sp.DynamicVariables, sp.SealedDynamic = s.sealVars("dyn", r.JobID, r.DynamicVariables, r.SecretNames)
	return sp
}

// openSpec returns a stored spec's variables with the sealed values opened,
// and the names of the secret variables that could not be opened.
func (s *sealer) openSpec(jobID int64, sp spec) (vars, dyn map[string]string, lost []string) {
	vars, lostVars := s.openVars("var", jobID, sp.Version, sp.Variables, sp.SealedVariables, sp.SecretNames)
	dyn, lostDyn := s.openVars("dyn", jobID, sp.Version, sp.DynamicVariables, sp.SealedDynamic, sp.SecretNames)
	return vars, dyn, append(lostVars, lostDyn...)
}

// errorsWithheld replaces Xplenty's errors text of a job whose secret
// values cannot be opened (sealed with a key that is gone): without them
// the text cannot be scrubbed, and it may echo them.
const errorsWithheld = "(Xplenty's error text is not kept: the job's secret values could not be read to hide them from it.)"

// scrubErrors readies Xplenty's errors text of a job for Redis: the job's
// secret values replaced by Mask, like everywhere they could be shown. It
// reads the job's spec only when there is text, which only failed jobs
// have, so the common observation costs no extra round trip.
func (s *Store) scrubErrors(ctx context.Context, id int64, text string) (string, error) {
	if text == "" {
		return "", nil
	}
	sc, err := s.scrubberOf(ctx, id)
	if err != nil {
		return "", err
	}
	return sc(text), nil
}

// scrubberOf reads a job's spec once and returns what readies its
// Xplenty texts for Redis: each scrubbed of the job's secret values, or
// errorsWithheld when they cannot be read; "" for a job not tracked
// (observeScript ignores it).
func (s *Store) scrubberOf(ctx context.Context, id int64) (func(string) string, error) {
	raw, err := s.rdb.HGet(ctx, s.keys.Job(id), fSpec).Result()
	if errors.Is(err, redis.Nil) {
		return func(string) string { return "" }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read job %d to scrub its errors: %w", id, err)
	}
	var sp spec
	if err := json.Unmarshal([]byte(raw), &sp); err != nil {
		return nil, fmt.Errorf("decode job %d: %w", id, err)
	}
	vars, dyn, lost := s.sealer.openSpec(id, sp)
	if len(lost) > 0 {
		return func(string) string { return errorsWithheld }, nil
	}
	sc := render.NewScrubber(sp.SecretNames, vars, dyn)
	return sc.Scrub, nil
}
