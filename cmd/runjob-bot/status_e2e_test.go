package main

import (
	"testing"

	"github.com/runjob/runjob/xplenty/xplentytest"
)

// `status` of a job started in another channel is judged where the job
// lives: the person must be allowed to run it there. Being allowed to run
// the same package in the channel one asks from is not enough: the status
// line names who started the job and when, in a channel that may be
// private.
func TestE2EStatusOfAnotherChannelsJobIsJudgedInItsChannel(t *testing.T) {
	e := newE2E(t, xplentytest.Options{})
	e.cfg.PolicyFile = writePolicy(t, `
rules:
  - name: ops-private
    users: [U1]
    channels: [C1]
    packages: ["*"]
    clusters: ["*"]
  - name: sandbox
    users: [U2]
    channels: [C2]
    packages: [434]
    clusters: [52]
`)
	e.cfg.AllowedUsers, e.cfg.AllowedChannels = nil, nil
	e.startBot()
	e.command("U1", "C1", "cluster=52 package=434")
	e.waitCard(1001, "idle")

	e.command("U2", "C2", "status 1001")
	e.waitEphemeral("U2", "Job 1001 is not one you may see here")

	e.command("U1", "C3", "status 1001") // allowed where the job lives
	e.waitEphemeral("U1", "Job 1001: *idle*")
}
