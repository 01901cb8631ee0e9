package policy

import (
	"maps"
	"reflect"
	"testing"
)

func TestDefaultSecretPattern(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"DB_PASSWORD", true},
		{"api_key", true},
		{"PASSPHRASE", true},
		{"Token", true},
		{"aws_secret_access_key", true},
		{"GCP_CREDENTIALS", true},
		{"SFTP_PASS", true},
		// Broad on purpose, and documented: KEY is in MONKEY, PASS in
		// PASSENGER.
		{"MONKEY", true},
		{"PASSENGER_COUNT", true},
		{"DATE", false},
		{"MODE", false},
		{"DB_HOST", false},
		{"USER", false},
		{"PASWORD", false},
	}
	var s *Secrets // nil uses the default, as does NewSecrets("", nil)
	d, err := NewSecrets("", nil)
	if err != nil {
		t.Fatalf("NewSecrets: %v", err)
	}
	for _, tt := range tests {
		if got := s.IsSecret(tt.name); got != tt.want {
			t.Errorf("nil IsSecret(%q) = %v, want %v", tt.name, got, tt.want)
		}
		if got := d.IsSecret(tt.name); got != tt.want {
			t.Errorf("default IsSecret(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSecretsListedAndCustom(t *testing.T) {
	s, err := NewSecrets(`^X_`, []string{"DB_URL", "Sftp_User"})
	if err != nil {
		t.Fatalf("NewSecrets: %v", err)
	}
	tests := []struct {
		name string
		want bool
	}{
		{"X_ANYTHING", true},
		{"DB_URL", true},
		{"db_url", true}, // listed names match without case: hiding more is safe
		{"SFTP_USER", true},
		{"DB_PASSWORD", false}, // a custom pattern replaces the default
		{"MY_X_", false},
	}
	for _, tt := range tests {
		if got := s.IsSecret(tt.name); got != tt.want {
			t.Errorf("IsSecret(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := NewSecrets(`(PASS`, nil); err == nil {
		t.Errorf("NewSecrets with an invalid pattern succeeded")
	}
}

func TestSecretsNames(t *testing.T) {
	s, err := NewSecrets("", []string{"DB_URL"})
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"DATE": "x", "DB_PASSWORD": "p", "DB_URL": "u"}
	dyn := map[string]string{"TOKEN": "Now()", "DB_PASSWORD": "Other()"}
	if got, want := s.Names(vars, dyn, nil), []string{"DB_PASSWORD", "DB_URL", "TOKEN"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %q, want %q", got, want)
	}
	if got := s.Names(map[string]string{"DATE": "x"}); got != nil {
		t.Errorf("Names without secrets = %q, want nil", got)
	}
	if got := s.Names(); got != nil {
		t.Errorf("Names() = %q, want nil", got)
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name                string
		defaults, overrides map[string]string
		want                map[string]string
	}{
		{"both nil", nil, nil, nil},
		{"both empty", map[string]string{}, map[string]string{}, nil},
		{"defaults only", map[string]string{"MODE": "full"}, nil, map[string]string{"MODE": "full"}},
		{"overrides only", nil, map[string]string{"DATE": "2026-11-01"}, map[string]string{"DATE": "2026-11-01"}},
		{"override wins", map[string]string{"MODE": "full", "LIMIT": "10"}, map[string]string{"MODE": "incremental", "DATE": "d"},
			map[string]string{"MODE": "incremental", "LIMIT": "10", "DATE": "d"}},
		{"empty override wins", map[string]string{"MODE": "full"}, map[string]string{"MODE": ""}, map[string]string{"MODE": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defaults, overrides := maps.Clone(tt.defaults), maps.Clone(tt.overrides)
			got := Merge(tt.defaults, tt.overrides)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Merge = %v, want %v", got, tt.want)
			}
			if got != nil {
				got["NEW"] = "x" // the result is a new map
			}
			if !maps.Equal(tt.defaults, defaults) || !maps.Equal(tt.overrides, overrides) {
				t.Errorf("Merge changed its arguments: %v, %v", tt.defaults, tt.overrides)
			}
		})
	}
}

func TestPresetApply(t *testing.T) {
	pr := Preset{
		Name:             "nightly",
		Variables:        map[string]string{"MODE": "full", "DAY": "today"},
		DynamicVariables: map[string]string{"RUN_DATE": "CurrentTime()"},
	}
	tests := []struct {
		name              string
		vars, dyn         map[string]string
		wantVars, wantDyn map[string]string
	}{
		{"defaults", nil, nil,
			map[string]string{"MODE": "full", "DAY": "today"}, map[string]string{"RUN_DATE": "CurrentTime()"}},
		{"same kind overrides", map[string]string{"MODE": "incremental"}, map[string]string{"RUN_DATE": "Yesterday()"},
			map[string]string{"MODE": "incremental", "DAY": "today"}, map[string]string{"RUN_DATE": "Yesterday()"}},
		{"a value replaces a dynamic default", map[string]string{"RUN_DATE": "2026-11-01"}, nil,
			map[string]string{"MODE": "full", "DAY": "today", "RUN_DATE": "2026-11-01"}, nil},
		{"an expression replaces a value default", nil, map[string]string{"DAY": "Today()"},
			map[string]string{"MODE": "full"}, map[string]string{"RUN_DATE": "CurrentTime()", "DAY": "Today()"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars, dyn := pr.Apply(tt.vars, tt.dyn)
			if !reflect.DeepEqual(vars, tt.wantVars) || !reflect.DeepEqual(dyn, tt.wantDyn) {
				t.Errorf("Apply = %v, %v; want %v, %v", vars, dyn, tt.wantVars, tt.wantDyn)
			}
		})
	}
	if len(pr.Variables) != 2 || len(pr.DynamicVariables) != 1 {
		t.Errorf("Apply changed the preset: %+v", pr)
	}
}
