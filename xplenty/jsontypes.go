package xplenty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The API's JSON is looser than its documentation: numbers arrive as text
// and text as numbers, progress is written 1 or 1.0, timestamps come with Z,
// with an offset or as null, errors is "" or null, and outputs changed shape
// between versions. The json* types below absorb those differences so that
// Job and Output keep plain Go fields.

// numberText returns the text of a number sent as a number or as a JSON
// string; empty is true for null and for "".
func numberText(b []byte) (s string, empty bool, err error) {
	s = string(bytes.TrimSpace(b))
	if s == "null" {
		return "", true, nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		s = strings.TrimSpace(s)
	}
	return s, s == "", nil
}

// jsonInt is an integer sent as a number (42, 42.0), as text ("42") or as
// null (0). A fractional number is truncated: counts and runtimes are the
// only integers that could plausibly carry a fraction.
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	s, empty, err := numberText(b)
	if err != nil || empty {
		*n = 0
		return err
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = jsonInt(i)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 1<<63 {
		return fmt.Errorf("%s is not an integer", shorten(s))
	}
	*n = jsonInt(f)
	return nil
}

// jsonFloat is a number sent as a number (1, 1.0, 0.35), as text or as
// null (0).
type jsonFloat float64

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	s, empty, err := numberText(b)
	if err != nil || empty {
		*f = 0
		return err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s is not a number", shorten(s))
	}
	*f = jsonFloat(v)
	return nil
}

// jsonText is text that may arrive as null (""), as a number or a boolean
// (their JSON text), or, for errors, as a list of messages or an object of
// them (a Rails validation hash): those are read as plainText.
type jsonText string

func (t *jsonText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = jsonText(s)
	case b[0] == '[' || b[0] == '{':
		text, err := plainText(b)
		if err != nil {
			return err
		}
		*t = jsonText(text)
	default:
		*t = jsonText(compactJSON(b))
	}
	return nil
}

// plainText reads a JSON list or object as text for people: its strings,
// numbers and booleans in order, escapes decoded, joined with "; ", an
// object's members written "key: text"; nulls and empty strings are left
// out. Kept as JSON, the text would keep its escapes, and a secret echoed
// as Zq8vK\u0026w7 would slip past the scrubber, which looks for values.
func plainText(b []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	parts, err := textParts(dec, nil)
	if err != nil {
		return "", err
	}
	return strings.Join(parts, "; "), nil
}

// textParts appends the texts of the next JSON value in dec to parts.
func textParts(dec *json.Decoder, parts []string) ([]string, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim: // '[' or '{': Token checks the nesting
		for dec.More() {
			if v == '[' {
				if parts, err = textParts(dec, parts); err != nil {
					return nil, err
				}
				continue
			}
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			member, err := textParts(dec, nil)
			if err != nil {
				return nil, err
			}
			if len(member) > 0 {
				parts = append(parts, fmt.Sprint(key)+": "+strings.Join(member, "; "))
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
	case string:
		if v != "" {
			parts = append(parts, v)
		}
	case json.Number:
		parts = append(parts, v.String())
	case bool:
		parts = append(parts, strconv.FormatBool(v))
	}
	return parts, nil
}

// jsonVars is a variables object. Values keep their JSON text when they are
// not strings (42 -> "42", 1.5 -> "1.5", true -> "true", null -> ""). A
// value that is not an object (null, or the [] some serializers write for
// an empty map) decodes as no variables.
type jsonVars map[string]string

func (v *jsonVars) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		*v = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("variables: %w", err)
	}
	out := make(map[string]string, len(raw))
	for name, val := range raw {
		var t jsonText
		val = bytes.TrimSpace(val)
		if len(val) > 0 && (val[0] == '[' || val[0] == '{') {
			// A list or object value is kept as its JSON, not read as
			// text like errors: it is a value, sent back on a re-run.
			t = jsonText(compactJSON(val))
		} else if err := t.UnmarshalJSON(val); err != nil {
			return fmt.Errorf("variable %q: %w", name, err)
		}
		out[name] = string(t)
	}
	*v = out
	return nil
}

// jsonTime is an RFC 3339 timestamp with any offset, or null. Text that is
// not a timestamp decodes as no timestamp instead of failing the whole job:
// one odd field must not stop the bot from following every other job.
type jsonTime struct{ t *time.Time }

func (jt *jsonTime) UnmarshalJSON(b []byte) error {
	jt.t = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] != '"' {
		// Seconds since the epoch: not documented, but unambiguous.
		var sec jsonInt
		if err := sec.UnmarshalJSON(b); err == nil && sec > 0 {
			t := time.Unix(int64(sec), 0).UTC()
			jt.t = &t
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if t, ok := parseTime(s); ok {
		jt.t = &t
	}
	return nil
}

// parseTime reads an ISO 8601 timestamp: RFC 3339 first (any offset, any
// fraction), then the near misses seen in the wild (a space instead of T,
// an offset without a colon).
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999Z0700", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// shorten keeps decode errors readable when the server sends something long.
func shorten(s string) string {
	const limit = 40
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:limit]) + "..."
}
