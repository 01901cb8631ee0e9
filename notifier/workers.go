package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// DefaultWorkers is how many thread messages a replica delivers at once.
// Each waits for its channel's budget (about one post a second), so
// different channels go in parallel.
const DefaultWorkers = 16

// outboxItem is an outbox entry on its way to a worker.
type outboxItem struct {
	m     redis.XMessage
	retry bool
}

// replyWorkers deliver outbox entries in parallel: all entries of one
// channel go to the same worker, in stream order, so one thread's messages
// stay in order while other channels are served meanwhile.
type replyWorkers struct {
	queues []chan outboxItem
	wg     sync.WaitGroup
}

func (d *Deliverer) startWorkers(ctx context.Context) *replyWorkers {
	w := &replyWorkers{queues: make([]chan outboxItem, d.opts.Workers)}
	for i := range w.queues {
		q := make(chan outboxItem, 32)
		w.queues[i] = q
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for it := range q {
				d.handle(ctx, it.m, it.retry)
			}
		}()
	}
	return w
}

// stop lets the workers finish what they were given and waits for them.
func (w *replyWorkers) stop() {
	for _, q := range w.queues {
		close(q)
	}
	w.wg.Wait()
}

// dispatch hands msgs to the workers of their channels. It returns early
// (leaving the rest pending, to be claimed again) when ctx ends.
func (d *Deliverer) dispatch(ctx context.Context, msgs []redis.XMessage, retry bool) {
	chans := d.channelsOf(ctx, msgs)
	for i, m := range msgs {
		h := fnv.New32a()
		h.Write([]byte(chans[i]))
		select {
		case d.workers.queues[h.Sum32()%uint32(len(d.workers.queues))] <- outboxItem{m: m, retry: retry}:
		case <-ctx.Done():
			return
		}
	}
}

// channelsOf returns the channel each entry's job posts in; when it cannot
// be read (the record expired, Redis failed) the job id stands in, which
// keeps that job's messages in order all the same.
func (d *Deliverer) channelsOf(ctx context.Context, msgs []redis.XMessage) []string {
	out := make([]string, len(msgs))
	cmds := make([]*redis.StringCmd, len(msgs))
	_, _ = d.store.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range msgs {
			id, _ := strconv.ParseInt(fmt.Sprint(m.Values["job"]), 10, 64)
			cmds[i] = p.HGet(ctx, d.store.keys.job(id), fSpec)
		}
		return nil
	})
	for i, m := range msgs {
		var sp struct {
			Channel string `json:"channel"`
		}
		if json.Unmarshal([]byte(cmds[i].Val()), &sp) == nil && sp.Channel != "" {
			out[i] = sp.Channel
		} else {
			out[i] = "job:" + fmt.Sprint(m.Values["job"])
		}
	}
	return out
}
