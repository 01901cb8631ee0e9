package xplenty

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Decoding the API's answers: a job, a job of a list page, an output and a
// creator, each read through the lenient json* types of jsontypes.go, so
// that every shape the API has sent decodes to the same plain Go fields.

// UnmarshalJSON decodes a job as any version of the API writes it, and as
// encoding/json writes a Job (so stored jobs read back the same).
func (j *Job) UnmarshalJSON(b []byte) error {
	var w struct {
		ID               jsonInt   `json:"id"`
		Status           jsonText  `json:"status"`
		Variables        jsonVars  `json:"variables"`
		DynamicVariables jsonVars  `json:"dynamic_variables"`
		OwnerID          jsonInt   `json:"owner_id"`
		Progress         jsonFloat `json:"progress"`
		OutputsCount     jsonInt   `json:"outputs_count"`
		Outputs          []Output  `json:"outputs"`
		StartedAt        jsonTime  `json:"started_at"`
		CreatedAt        jsonTime  `json:"created_at"`
		FailedAt         jsonTime  `json:"failed_at"`
		UpdatedAt        jsonTime  `json:"updated_at"`
		CompletedAt      jsonTime  `json:"completed_at"`
		ClusterID        jsonInt   `json:"cluster_id"`
		PackageID        jsonInt   `json:"package_id"`
		Errors           jsonText  `json:"errors"`
		URL              jsonText  `json:"url"`
		HTMLURL          jsonText  `json:"html_url"`
		LogURL           jsonText  `json:"log_url"`
		RuntimeInSeconds jsonInt   `json:"runtime_in_seconds"`
		Creator          *Creator  `json:"creator"`
		Attempts         jsonInt   `json:"attempts"`
		// LogSummary is read apart: it must never fail the job.
		LogSummary json.RawMessage `json:"log_summary"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("job: %w", err)
	}
	*j = Job{
		ID:               int64(w.ID),
		Status:           Status(w.Status),
		Variables:        w.Variables,
		DynamicVariables: w.DynamicVariables,
		OwnerID:          int64(w.OwnerID),
		Progress:         float64(w.Progress),
		OutputsCount:     int(w.OutputsCount),
		Outputs:          w.Outputs,
		StartedAt:        w.StartedAt.t,
		CreatedAt:        w.CreatedAt.t,
		FailedAt:         w.FailedAt.t,
		UpdatedAt:        w.UpdatedAt.t,
		CompletedAt:      w.CompletedAt.t,
		ClusterID:        int64(w.ClusterID),
		PackageID:        int64(w.PackageID),
		Errors:           string(w.Errors),
		URL:              string(w.URL),
		HTMLURL:          string(w.HTMLURL),
		LogURL:           string(w.LogURL),
		RuntimeInSeconds: int64(w.RuntimeInSeconds),
		Creator:          w.Creator,
		Attempts:         int(w.Attempts),
		LogSummary:       decodeLogSummary(w.LogSummary),
	}
	return nil
}

// ErrUndecodable marks a 2xx answer that came back whole but could not be
// read as what was asked for (not JSON, the wrong shape, a job without an
// id): the server answered, the answer is the problem. Check with errors.Is
// or IsUndecodable; the error also keeps its own cause.
var ErrUndecodable = errors.New("xplenty: answer could not be decoded")

// IsUndecodable reports whether err says that an answer came but could not
// be decoded; see ErrUndecodable.
func IsUndecodable(err error) bool { return errors.Is(err, ErrUndecodable) }

type undecodableError struct{ err error }

func (e *undecodableError) Error() string   { return e.err.Error() }
func (e *undecodableError) Unwrap() []error { return []error{e.err, ErrUndecodable} }

func undecodable(err error) error { return &undecodableError{err: err} }

// decodeListed decodes one job of a list page. A job without an id is
// refused too: nothing can follow it. On failure the returned job holds the
// id when that much could be read.
func decodeListed(b []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		var w struct {
			ID jsonInt `json:"id"`
		}
		if json.Unmarshal(b, &w) == nil && w.ID > 0 {
			return Job{ID: int64(w.ID)}, err
		}
		return Job{}, err
	}
	if j.ID <= 0 {
		return Job{}, errors.New("job: no id")
	}
	return j, nil
}

// UnmarshalJSON decodes an output in the v2 shape (component {name, type,
// fields}), the older one (component_name) and the one encoding/json writes
// for an Output (component_name, component_type).
func (o *Output) UnmarshalJSON(b []byte) error {
	var w struct {
		ID            jsonInt         `json:"id"`
		Name          jsonText        `json:"name"`
		RecordsCount  jsonInt         `json:"records_count"`
		CreatedAt     jsonTime        `json:"created_at"`
		UpdatedAt     jsonTime        `json:"updated_at"`
		URL           jsonText        `json:"url"`
		PreviewURL    jsonText        `json:"preview_url"`
		PreviewType   jsonText        `json:"preview_type"`
		Component     json.RawMessage `json:"component"`
		ComponentName jsonText        `json:"component_name"`
		ComponentType jsonText        `json:"component_type"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	*o = Output{
		ID:            int64(w.ID),
		Name:          string(w.Name),
		RecordsCount:  int64(w.RecordsCount),
		CreatedAt:     w.CreatedAt.t,
		UpdatedAt:     w.UpdatedAt.t,
		URL:           string(w.URL),
		PreviewURL:    string(w.PreviewURL),
		PreviewType:   string(w.PreviewType),
		ComponentName: string(w.ComponentName),
		ComponentType: string(w.ComponentType),
	}
	// component is an object in v2; tolerate a bare name too. Anything
	// else is ignored: the component only labels the output.
	var comp struct {
		Name jsonText `json:"name"`
		Type jsonText `json:"type"`
	}
	var name string
	switch {
	case json.Unmarshal(w.Component, &comp) == nil:
		if comp.Name != "" {
			o.ComponentName = string(comp.Name)
		}
		if comp.Type != "" {
			o.ComponentType = string(comp.Type)
		}
	case json.Unmarshal(w.Component, &name) == nil && name != "":
		o.ComponentName = name
	}
	return nil
}

// UnmarshalJSON decodes a creator, accepting an id sent as text.
func (c *Creator) UnmarshalJSON(b []byte) error {
	var w struct {
		Type        jsonText `json:"type"`
		ID          jsonInt  `json:"id"`
		DisplayName jsonText `json:"display_name"`
		URL         jsonText `json:"url"`
		HTMLURL     jsonText `json:"html_url"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("creator: %w", err)
	}
	*c = Creator{
		Type:        string(w.Type),
		ID:          int64(w.ID),
		DisplayName: string(w.DisplayName),
		URL:         string(w.URL),
		HTMLURL:     string(w.HTMLURL),
	}
	return nil
}
