package notifier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// sealedPrefix marks a value encrypted by a sealer; v1 is AES-256-GCM.
const sealedPrefix = "sealed:v1:"

// errUnsealable is returned for a sealed value that cannot be opened (the
// key changed, or the data was altered).
var errUnsealable = errors.New("sealed value cannot be opened with this key")

// sealer encrypts the values of secret variables before they are written to
// Redis, so that a copy of the database (a backup, an RDB file, a MONITOR
// session) does not hold them in clear. Re-run needs the values back, so
// they are encrypted, not hashed.
type sealer struct{ aead cipher.AEAD }

// newSealer derives an AES-256-GCM key from secret; nil secret means no
// sealing.
func newSealer(secret []byte) (*sealer, error) {
	if len(secret) == 0 {
		return nil, nil
	}
	key := sha256.Sum256(append([]byte("runjob secret variables v1\x00"), secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal encrypts value; label (the variable name) is authenticated with it,
// so a sealed value cannot be moved to another variable.
func (s *sealer) seal(label, value string) string {
	if s == nil {
		return value
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce) // never fails (crypto/rand, Go 1.24+)
	out := s.aead.Seal(nonce, nonce, []byte(value), []byte(label))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// open reverses seal. A value that was never sealed is returned as it is.
func (s *sealer) open(label, value string) (string, error) {
	rest, ok := strings.CutPrefix(value, sealedPrefix)
	if !ok {
		return value, nil
	}
	if s == nil {
		return "", errUnsealable
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", errUnsealable
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(label))
	if err != nil {
		return "", errUnsealable
	}
	return string(plain), nil
}

// sealMap returns m with the values of the secret names sealed.
func (s *sealer) sealMap(kind string, m map[string]string, secret []string) map[string]string {
	if s == nil || len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if containsFold(secret, k) {
			v = s.seal(kind+":"+k, v)
		}
		out[k] = v
	}
	return out
}

// openMap opens the sealed values of m in place and returns the names of
// those it could not open (they are removed).
func (s *sealer) openMap(kind string, m map[string]string) (lost []string) {
	for k, v := range m {
		plain, err := s.open(kind+":"+k, v)
		if err != nil {
			delete(m, k)
			lost = append(lost, k)
			continue
		}
		m[k] = plain
	}
	return lost
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
