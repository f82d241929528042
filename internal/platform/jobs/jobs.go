// Package jobs runs the background work of the contexts on asynq (tasks in
// Redis): one server per process with queue priorities, retries with
// exponential backoff, tasks enqueued only after the transaction that
// decided them commits, and periodic maintenance that runs once per period
// across all replicas.
//
// Each context gets a Scope (its task types are "<ctx>:<type>", its queues
// "<ctx>.high", "<ctx>", "<ctx>.low"), so a process serves only the queues
// of the contexts it hosts: in the split topology no process takes a task
// it has no handler for.
//
// Every (a plain ticker) remains for business work whose state and
// deadlines live in PostgreSQL and which every replica may do concurrently
// (fulfillment's shipments, payments' provider calls).
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
)

// Every runs fn at once and then every interval until ctx ends. Errors are
// logged, not fatal: the next tick retries. It is for work that is safe on
// every replica at once; maintenance that should run once per period
// across replicas is a Scope.Every task instead.
func Every(ctx context.Context, interval time.Duration, log *slog.Logger, name string, fn func(context.Context) error) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Warn("background job failed", "job", name, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Priority picks one of a scope's three queues; the server takes tasks
// from them in the ratio 6:3:1, so urgent work is not stuck behind a
// backlog of maintenance without starving it.
type Priority int

// The priorities.
const (
	Default Priority = iota
	High
	Low
)

// weights are the queues' shares of the server's workers.
var weights = map[Priority]int{High: 6, Default: 3, Low: 1}

// Config configures a Queue.
type Config struct {
	// Concurrency is the number of tasks processed at once (default 10).
	Concurrency int
	// MaxRetry is how often a failed task is retried (default 8).
	MaxRetry int
	// RetryBase and RetryMax bound the backoff: the n-th retry waits
	// RetryBase·2ⁿ⁻¹, at most RetryMax (defaults 10s and 1h).
	RetryBase, RetryMax time.Duration
	// ShutdownTimeout is how long shutdown waits for running tasks
	// before handing them back to the queue (default 10s).
	ShutdownTimeout time.Duration
	// PollInterval is how often scheduled and retried tasks are moved to
	// their queue (asynq's default 5s; tests shorten it).
	PollInterval time.Duration
	// Namespace prefixes every queue name ("<ns>/<ctx>"): asynq keeps all
	// of a queue's keys under its name, so deployments (and tests) sharing
	// one Redis never take each other's tasks. Empty: no prefix.
	Namespace string
	Log       *slog.Logger
}

// Queue is the process's job system: the client that enqueues, the server
// that processes the hosted contexts' queues and the periodic scheduler.
type Queue struct {
	rdb    redis.UniversalClient
	client *asynq.Client
	cfg    Config
	log    *slog.Logger
	mux    *asynq.ServeMux

	mu       sync.Mutex
	queues   map[string]int
	periodic []periodic
	running  bool
}

type periodic struct {
	typ    string
	queue  string
	period time.Duration
}

// New builds the job system on rdb (shared, not closed by the Queue).
func New(rdb redis.UniversalClient, cfg Config) *Queue {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 10
	}
	if cfg.MaxRetry <= 0 {
		cfg.MaxRetry = 8
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 10 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = time.Hour
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Queue{rdb: rdb, client: asynq.NewClientFromRedisClient(rdb), cfg: cfg, log: cfg.Log.With("component", "jobs"),
		mux: asynq.NewServeMux(), queues: map[string]int{}}
}

// Scope is a context's part of the job system (name "cart": task types
// "cart:<type>", queues "cart.high", "cart", "cart.low"). Registering a
// handler makes this process serve the scope's queues.
func (q *Queue) Scope(name string) *Scope { return &Scope{q: q, name: name} }

// Scope registers and enqueues one context's tasks.
type Scope struct {
	q    *Queue
	name string
}

// Handler processes one task's payload. An error (or a panic) retries the
// task with backoff; wrap SkipRetry to give up at once.
type Handler func(ctx context.Context, payload []byte) error

// SkipRetry, wrapped in a handler's error, archives the task without
// retrying it (a payload that can never succeed).
var SkipRetry = asynq.SkipRetry

func (s *Scope) queue(p Priority) string {
	name := s.name
	if s.q.cfg.Namespace != "" {
		name = s.q.cfg.Namespace + "/" + name
	}
	switch p {
	case High:
		return name + ".high"
	case Low:
		return name + ".low"
	}
	return name
}

func (s *Scope) taskType(typ string) string { return s.name + ":" + typ }

// Handle registers the handler of the scope's task type typ; call it while
// the module is built, before the Queue runs.
func (s *Scope) Handle(typ string, h Handler) {
	full := s.taskType(typ)
	s.q.mux.HandleFunc(full, func(ctx context.Context, t *asynq.Task) error {
		if err := h(ctx, t.Payload()); err != nil {
			return fmt.Errorf("%s: %w", full, err)
		}
		return nil
	})
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	for p, w := range weights {
		s.q.queues[s.queue(p)] = w
	}
}

// Every registers fn as the periodic task typ: every replica ticks at the
// period's wall-clock boundaries and enqueues the run of that slot under
// one task ID, so exactly one replica's enqueue wins and the run happens
// once per period across replicas (on the scope's low-priority queue,
// retried like any task).
func (s *Scope) Every(typ string, period time.Duration, fn func(ctx context.Context) error) {
	s.Handle(typ, func(ctx context.Context, _ []byte) error { return fn(ctx) })
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	s.q.periodic = append(s.q.periodic, periodic{typ: s.taskType(typ), queue: s.queue(Low), period: period})
}

// Option adjusts one enqueued task.
type Option struct {
	prio *Priority
	opt  asynq.Option
}

// WithPriority puts the task on the scope's queue of priority p.
func WithPriority(p Priority) Option { return Option{prio: &p} }

// MaxRetry overrides how often the task is retried.
func MaxRetry(n int) Option { return Option{opt: asynq.MaxRetry(n)} }

// Unique drops the task when an identical one (type and payload) is
// already queued or running within ttl (at least 1s).
func Unique(ttl time.Duration) Option { return Option{opt: asynq.Unique(ttl)} }

// TaskID names the task: a second task with the same ID is dropped while
// the first exists (ErrDuplicate from Enqueue).
func TaskID(id string) Option { return Option{opt: asynq.TaskID(id)} }

// ProcessIn delays the task by d.
func ProcessIn(d time.Duration) Option { return Option{opt: asynq.ProcessIn(d)} }

// Timeout bounds one attempt of the task.
func Timeout(d time.Duration) Option { return Option{opt: asynq.Timeout(d)} }

// ErrDuplicate is returned by Enqueue for a task dropped by Unique or
// TaskID: the work is already queued.
var ErrDuplicate = errors.New("jobs: duplicate task")

func (s *Scope) task(typ string, payload any, opts []Option) (*asynq.Task, []asynq.Option, error) {
	var body []byte
	switch p := payload.(type) {
	case nil:
	case []byte:
		body = p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			return nil, nil, fmt.Errorf("jobs: payload of %s: %w", typ, err)
		}
		body = b
	}
	prio := Default
	aopts := []asynq.Option{asynq.MaxRetry(s.q.cfg.MaxRetry)}
	for _, o := range opts {
		if o.prio != nil {
			prio = *o.prio
		}
		if o.opt != nil {
			aopts = append(aopts, o.opt)
		}
	}
	aopts = append(aopts, asynq.Queue(s.queue(prio)))
	return asynq.NewTask(s.taskType(typ), body), aopts, nil
}

// Enqueue queues a task now (JSON payload, or raw []byte). It is for work
// not decided inside a transaction; work that is must use InTx or a Later
// so a rollback leaves no task behind.
func (s *Scope) Enqueue(ctx context.Context, typ string, payload any, opts ...Option) error {
	t, aopts, err := s.task(typ, payload, opts)
	if err != nil {
		return err
	}
	return s.q.enqueue(ctx, t, aopts)
}

func (q *Queue) enqueue(ctx context.Context, t *asynq.Task, opts []asynq.Option) error {
	if _, err := q.client.EnqueueContext(ctx, t, opts...); err != nil {
		if errors.Is(err, asynq.ErrDuplicateTask) || errors.Is(err, asynq.ErrTaskIDConflict) {
			return ErrDuplicate
		}
		return fmt.Errorf("jobs: enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// Later collects tasks decided inside a transaction; Flush enqueues them
// once it has committed. Forget a Later whose transaction rolled back.
type Later struct {
	s     *Scope
	mu    sync.Mutex
	tasks []pending
	err   error
}

type pending struct {
	t    *asynq.Task
	opts []asynq.Option
}

// Later starts a collection of tasks to enqueue after a commit (an event
// consumer's Handle adds to it, its After flushes it).
func (s *Scope) Later() *Later { return &Later{s: s} }

// Enqueue records a task to enqueue at Flush.
func (l *Later) Enqueue(typ string, payload any, opts ...Option) error {
	t, aopts, err := l.s.task(typ, payload, opts)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.tasks = append(l.tasks, pending{t, aopts})
	l.mu.Unlock()
	return nil
}

// Flush enqueues the recorded tasks (duplicates dropped silently) and
// empties the Later; call it only after the transaction committed. A task
// that cannot reach Redis is reported; the state that decided it is
// committed, so the owner's periodic sweep should find such work again.
func (l *Later) Flush(ctx context.Context) error {
	l.mu.Lock()
	tasks := l.tasks
	l.tasks = nil
	l.mu.Unlock()
	var errs []error
	for _, p := range tasks {
		if err := l.s.q.enqueue(ctx, p.t, p.opts); err != nil && !errors.Is(err, ErrDuplicate) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// InTx runs fn in a transaction of db and enqueues the tasks fn recorded
// on later only once the transaction has committed: a rolled-back
// transaction (fn's error, a failed commit) leaves no job behind.
func (s *Scope) InTx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx, later *Later) error) error {
	later := s.Later()
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx, later) }); err != nil {
		return err
	}
	return later.Flush(ctx)
}

// Queues are the queues this process serves and their weights.
func (q *Queue) Queues() map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[string]int, len(q.queues))
	for k, v := range q.queues {
		out[k] = v
	}
	return out
}

// retryDelay is the exponential backoff: RetryBase·2ⁿ⁻¹, capped.
func (q *Queue) retryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := q.cfg.RetryBase
	for i := 1; i < n && d < q.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, q.cfg.RetryMax)
}

// Run serves the registered queues and ticks the periodic tasks until ctx
// ends, then shuts down gracefully: no new task is taken, running ones get
// ShutdownTimeout to finish, the rest go back to their queue. A process
// that registered no handler returns when ctx ends.
func (q *Queue) Run(ctx context.Context) error {
	q.mu.Lock()
	if q.running {
		q.mu.Unlock()
		return errors.New("jobs: already running")
	}
	q.running = true
	queues := make(map[string]int, len(q.queues))
	for k, v := range q.queues {
		queues[k] = v
	}
	periodics := append([]periodic(nil), q.periodic...)
	q.mu.Unlock()
	if len(queues) == 0 {
		<-ctx.Done()
		return nil
	}
	srv := asynq.NewServerFromRedisClient(q.rdb, asynq.Config{
		Concurrency:              q.cfg.Concurrency,
		Queues:                   queues,
		RetryDelayFunc:           q.retryDelay,
		ShutdownTimeout:          q.cfg.ShutdownTimeout,
		DelayedTaskCheckInterval: q.cfg.PollInterval,
		Logger:                   slogAdapter{q.log},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			q.log.WarnContext(ctx, "job failed", "type", t.Type(), "attempt", retried+1, "max_retry", maxRetry,
				"panic", asynq.IsPanicError(err), "err", err)
		}),
	})
	if err := srv.Start(q.mux); err != nil {
		return fmt.Errorf("jobs: start server: %w", err)
	}
	names := make([]string, 0, len(queues))
	for k := range queues {
		names = append(names, k)
	}
	sort.Strings(names)
	q.log.Info("job server started", "queues", names, "periodic", len(periodics), "concurrency", q.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, p := range periodics {
		wg.Add(1)
		go func() { defer wg.Done(); q.tick(ctx, p) }()
	}
	<-ctx.Done()
	wg.Wait()
	srv.Shutdown()
	return nil
}

// tick enqueues p at each wall-clock boundary of its period under the
// slot's task ID (kept for two periods after it ran), so the replicas'
// enqueues of one slot collapse into one run.
func (q *Queue) tick(ctx context.Context, p periodic) {
	for {
		now := time.Now()
		slot := now.Truncate(p.period).Add(p.period)
		select {
		case <-ctx.Done():
			return
		case <-time.After(slot.Sub(now)):
		}
		id := p.typ + "@" + strconv.FormatInt(slot.UnixMilli(), 10)
		t := asynq.NewTask(p.typ, nil)
		err := q.enqueue(ctx, t, []asynq.Option{asynq.Queue(p.queue), asynq.TaskID(id), asynq.MaxRetry(3),
			asynq.Retention(max(2*p.period, time.Second)), asynq.Timeout(max(p.period, time.Minute))})
		if err != nil && !errors.Is(err, ErrDuplicate) && ctx.Err() == nil {
			q.log.Warn("periodic job not enqueued", "type", p.typ, "err", err)
		}
	}
}

// Monitor is the asynqmon web UI and API on this Queue's Redis, rooted at
// root (e.g. "/admin/queues"); the caller restricts it to administrators.
func Monitor(rdb redis.UniversalClient, root string) http.Handler {
	return asynqmon.New(asynqmon.Options{RootPath: root, RedisConnOpt: sharedConn{rdb}})
}

// sharedConn hands asynqmon the process's client instead of letting it
// dial its own (the embedded Redis has no fixed address).
type sharedConn struct{ c redis.UniversalClient }

// MakeRedisClient implements asynq.RedisConnOpt.
func (s sharedConn) MakeRedisClient() any { return s.c }

// slogAdapter routes asynq's logs to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
