package deliver

import (
	"context"
	"testing"
)

// The Home tab's users.conversations and the policy's usergroups.users.list
// are different methods with limits of their own at Slack: a burst of Home
// tabs opened must not hold up the group lookup of a command, nor a 429 of
// one pause the other.
func TestHomeTabLookupsDoNotSpendThePolicysGroupBudget(t *testing.T) {
	sa, _ := twoReplicas(t)
	b := DefaultBudgets(sa)
	ctx := context.Background()
	for range 2 * DefaultGroupsBurst {
		if _, err := b.Take(ctx, "users.conversations", ""); err != nil {
			t.Fatal(err)
		}
	}
	if wait, err := b.Take(ctx, "usergroups.users.list", ""); err != nil || wait != 0 {
		t.Errorf("a group lookup after Home tabs were opened: wait %v, %v; want none", wait, err)
	}
	if err := b.Pause(ctx, "users.conversations", "", 30e9); err != nil {
		t.Fatal(err)
	}
	if wait, err := b.Take(ctx, "usergroups.users.list", ""); err != nil || wait != 0 {
		t.Errorf("a group lookup while users.conversations is rate limited: wait %v, %v; want none", wait, err)
	}
}
