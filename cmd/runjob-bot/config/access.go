package config

import (
	"errors"
	"fmt"
)

// Allowlists returns the ALLOWED_USERS and ALLOWED_CHANNELS lists the bot
// enforces. A bot that starts paid jobs is open only where someone wrote
// "*": an empty list never means everyone. When the policy file has rules,
// an empty list does not restrict and the rules decide alone (the operator
// said who may run what there); otherwise each list must be given, and the
// error names each one that is not and how to open it.
func Allowlists(users, channels []string, policyFile string, rules bool) ([]string, []string, error) {
	if rules {
		if len(users) == 0 {
			users = []string{"*"}
		}
		if len(channels) == 0 {
			channels = []string{"*"}
		}
		return users, channels, nil
	}
	why := "there is no RUNJOB_POLICY with rules to decide"
	if policyFile != "" {
		why = "the policy file " + policyFile + " has no rules to decide"
	}
	var errs []error
	if len(users) == 0 {
		errs = append(errs, fmt.Errorf("ALLOWED_USERS is empty and %s who may use the bot: "+
			"list Slack user ids (comma-separated), or set ALLOWED_USERS=* to allow everyone", why))
	}
	if len(channels) == 0 {
		errs = append(errs, fmt.Errorf("ALLOWED_CHANNELS is empty and %s where the bot may be used: "+
			"list Slack channel ids (comma-separated), or set ALLOWED_CHANNELS=* to allow every channel", why))
	}
	return users, channels, errors.Join(errs...)
}
