package xplenty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Decoding packages and clusters member by member: a member of the wrong
// type is read as its zero value instead of failing the object, because a
// catalog only names and describes; what it shows must not vanish for one
// odd field. Only an object without a usable id is refused.

// members is a JSON object split into its members.
type members map[string]json.RawMessage

func objectMembers(b []byte, what string) (members, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%s: not an object", what)
	}
	var m members
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return m, nil
}

// read decodes member name into v, leaving v as it is when the member is
// absent or cannot be read.
func (m members) read(name string, v json.Unmarshaler) bool {
	raw, ok := m[name]
	return ok && v.UnmarshalJSON(raw) == nil
}

func (m members) int(name string) int64 {
	var v jsonInt
	if !m.read(name, &v) {
		return 0
	}
	return int64(v)
}

// text reads text; a number or a boolean gives its JSON text, a list or an
// object nothing (that is not a name or a description).
func (m members) text(name string) string {
	raw := bytes.TrimSpace(m[name])
	if len(raw) > 0 && (raw[0] == '[' || raw[0] == '{') {
		return ""
	}
	var v jsonText
	if !m.read(name, &v) {
		return ""
	}
	return string(v)
}

func (m members) time(name string) *time.Time {
	var v jsonTime
	m.read(name, &v)
	return v.t
}

func (m members) bool(name string) bool {
	var v jsonBool
	m.read(name, &v)
	return bool(v)
}

func (m members) vars(name string) map[string]string {
	var v jsonVars
	if !m.read(name, &v) {
		return nil
	}
	return v
}

func (m members) creator(name string) *Creator {
	raw := bytes.TrimSpace(m[name])
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var c Creator
	if c.UnmarshalJSON(raw) != nil {
		return nil
	}
	return &c
}

// id reads the object's id: 0 when it is absent or null, an error when it
// is there but not an integer. The calls refuse an id that is not positive.
func (m members) id(what string) (int64, error) {
	raw, ok := m["id"]
	if !ok {
		return 0, nil
	}
	var v jsonInt
	if err := v.UnmarshalJSON(raw); err != nil {
		return 0, fmt.Errorf("%s: id: %w", what, err)
	}
	return int64(v), nil
}

// jsonBool is a boolean sent as true/false, as text ("true", "1") or as a
// number (1, 0); anything else, null included, is false.
type jsonBool bool

func (v *jsonBool) UnmarshalJSON(b []byte) error {
	var t jsonText
	if err := t.UnmarshalJSON(b); err != nil {
		*v = false
		return err
	}
	switch t {
	case "true", "1", "yes":
		*v = true
	default:
		*v = false
	}
	return nil
}

// UnmarshalJSON decodes a package as the API writes it, and as
// encoding/json writes a Package. Only a package whose id cannot be read
// fails; any other member of the wrong type is left at its zero value.
func (p *Package) UnmarshalJSON(b []byte) error {
	m, err := objectMembers(b, "package")
	if err != nil {
		return err
	}
	id, err := m.id("package")
	if err != nil {
		return err
	}
	*p = Package{
		ID:          id,
		Name:        m.text("name"),
		Description: m.text("description"),
		Variables:   m.vars("variables"),
		OwnerID:     m.int("owner_id"),
		Status:      PackageStatus(m.text("status")),
		CreatedAt:   m.time("created_at"),
		UpdatedAt:   m.time("updated_at"),
		URL:         m.text("url"),
		HTMLURL:     m.text("html_url"),
	}
	return nil
}

// UnmarshalJSON decodes a cluster as the API writes it, and as
// encoding/json writes a Cluster. Only a cluster whose id cannot be read
// fails; any other member of the wrong type is left at its zero value.
func (c *Cluster) UnmarshalJSON(b []byte) error {
	m, err := objectMembers(b, "cluster")
	if err != nil {
		return err
	}
	id, err := m.id("cluster")
	if err != nil {
		return err
	}
	*c = Cluster{
		ID:               id,
		Name:             m.text("name"),
		Description:      m.text("description"),
		Status:           ClusterStatus(m.text("status")),
		Type:             m.text("type"),
		Nodes:            int(m.int("nodes")),
		RunningJobsCount: int(m.int("running_jobs_count")),
		OwnerID:          m.int("owner_id"),
		PlanID:           m.int("plan_id"),
		Region:           m.text("region"),
		Zone:             m.text("zone"),
		TerminateOnIdle:  m.bool("terminate_on_idle"),
		TimeToIdle:       m.int("time_to_idle"),
		CreatedAt:        m.time("created_at"),
		UpdatedAt:        m.time("updated_at"),
		AvailableSince:   m.time("available_since"),
		IdleSince:        m.time("idle_since"),
		TerminatedAt:     m.time("terminated_at"),
		URL:              m.text("url"),
		HTMLURL:          m.text("html_url"),
		Creator:          m.creator("creator"),
	}
	return nil
}

// decodePackage decodes one package of an answer, refusing one without an
// id.
func decodePackage(b []byte) (Package, error) {
	var p Package
	if err := json.Unmarshal(b, &p); err != nil {
		return Package{}, err
	}
	if p.ID <= 0 {
		return Package{}, errors.New("package: no id")
	}
	return p, nil
}

// decodeCluster decodes one cluster of an answer, refusing one without an
// id.
func decodeCluster(b []byte) (Cluster, error) {
	var c Cluster
	if err := json.Unmarshal(b, &c); err != nil {
		return Cluster{}, err
	}
	if c.ID <= 0 {
		return Cluster{}, errors.New("cluster: no id")
	}
	return c, nil
}
