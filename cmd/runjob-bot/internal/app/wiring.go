package app

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/runjob/runjob/bot/policy"
	"github.com/runjob/runjob/cmd/runjob-bot/config"
	"github.com/runjob/runjob/notifier/deliver"
	"github.com/runjob/runjob/notifier/store"
)

// slackBudgets are Slack's limits, shared by the replicas through Redis.
func slackBudgets(store *store.Store, cfg config.Config, d Deps) *deliver.Budgets {
	post := deliver.Rate{N: deliver.DefaultPostPerSecond, Per: time.Second, Burst: deliver.DefaultPostBurst}
	if d.ChannelRate != 0 {
		post = deliver.Rate{N: float64(d.ChannelRate), Per: time.Second, Burst: max(d.ChannelBurst, 1)}
	}
	perMinute := cfg.UpdatePerMinute
	if perMinute <= 0 {
		perMinute = deliver.DefaultUpdatePerMinute
	}
	update := deliver.Rate{N: perMinute, Per: time.Minute, Burst: deliver.DefaultUpdateBurst}
	if d.UpdateRate != 0 {
		update = deliver.Rate{N: float64(d.UpdateRate), Per: time.Second, Burst: deliver.DefaultUpdateBurst}
	}
	return deliver.NewBudgets(store, post, update)
}

// replicaName tells replicas apart in Redis (consumer group, lease).
func replicaName() string {
	host, _ := os.Hostname()
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
}

// LoadPolicy reads the policy file, if any, and compiles the secret-name
// rule: the file's secret_pattern when it sets one, else SECRET_PATTERN,
// plus the names the file lists.
func LoadPolicy(cfg config.Config) (*policy.Policy, *policy.Secrets, error) {
	var pol *policy.Policy
	if cfg.PolicyFile != "" {
		var err error
		if pol, err = policy.Load(cfg.PolicyFile); err != nil {
			return nil, nil, fmt.Errorf("policy: %w", err)
		}
	}
	pattern := cfg.SecretPattern
	if p := pol.SecretPattern(); p != policy.DefaultSecretPattern {
		pattern = p
	}
	secrets, err := policy.NewSecrets(pattern, pol.SecretVariables())
	if err != nil {
		return nil, nil, fmt.Errorf("SECRET_PATTERN: %w", err)
	}
	return pol, secrets, nil
}
