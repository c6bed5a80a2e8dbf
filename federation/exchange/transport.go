// Package exchange moves messages between jurisdictions. The sender's leader
// ships its durable outbox (core.Federation) to any replica of the receiver;
// the receiver applies each message once, deduplicating on (origin,
// sequence) in its replicated state, and acknowledges; the sender trims its
// outbox only on that acknowledgement. At-least-once delivery plus an
// idempotent apply gives exactly-once effect across failovers, restarts and
// partitions (docs/federation.md).
package exchange

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Batch is what crosses the wire: messages from one origin, in order.
type Batch struct {
	Origin   string          `json:"origin"`
	Messages []model.Message `json:"messages"`
}

// Transport delivers a batch to some replica of dest and returns its
// acknowledgement.
type Transport interface {
	Send(ctx context.Context, dest string, b Batch) (model.ReceiveResult, error)
}

// Path is where a replica accepts batches.
const Path = "/exchange/v1/batch"

// MaxBatchBytes bounds a request body.
const MaxBatchBytes = 8 << 20

// ErrRefused marks a batch the receiver refused as a whole (an unknown
// origin, a forged one); retrying it unchanged will not help.
var ErrRefused = errors.New("exchange: refused")

// HTTPTransport posts batches over HTTP, with mutual TLS when TLS is set.
type HTTPTransport struct {
	// Resolve returns the exchange addresses (host:port) of dest's replicas,
	// leader first when known (membership supplies it).
	Resolve func(dest string) []string
	TLS     *tls.Config
	Client  *http.Client
}

// NewHTTPTransport builds a transport with sane timeouts. dial, if set with
// tlsConf, makes the TLS connections (tlsutil.Certs.Dialer), so each can use
// the CA bundle in use when it is made.
func NewHTTPTransport(resolve func(string) []string, tlsConf *tls.Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *HTTPTransport {
	tr := &http.Transport{TLSClientConfig: tlsConf, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}
	if tlsConf != nil {
		tr.DialTLSContext = dial
	}
	return &HTTPTransport{Resolve: resolve, TLS: tlsConf, Client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// Send tries dest's replicas in turn.
func (h *HTTPTransport) Send(ctx context.Context, dest string, b Batch) (model.ReceiveResult, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return model.ReceiveResult{}, err
	}
	addrs := h.Resolve(dest)
	if len(addrs) == 0 {
		return model.ReceiveResult{}, fmt.Errorf("exchange: no address for %s", dest)
	}
	scheme := "http"
	if h.TLS != nil {
		scheme = "https"
	}
	var last error
	for _, a := range addrs {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, scheme+"://"+a+Path, bytes.NewReader(body))
		if err != nil {
			return model.ReceiveResult{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.Client.Do(req)
		if err != nil {
			last = err
			continue
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			var res model.ReceiveResult
			if err := json.Unmarshal(raw, &res); err != nil {
				return model.ReceiveResult{}, fmt.Errorf("exchange: ack from %s: %w", a, err)
			}
			return res, nil
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusBadRequest:
			return model.ReceiveResult{}, fmt.Errorf("%w by %s: %s", ErrRefused, a, raw)
		default:
			last = fmt.Errorf("exchange: %s answered %d: %s", a, resp.StatusCode, bytes.TrimSpace(raw))
		}
	}
	return model.ReceiveResult{}, last
}

// Receiver applies batches into one replica's store.
type Receiver struct {
	Store *core.Store
	// Leader, if set, returns the exchange address of the group's leader,
	// so a follower forwards what it cannot apply.
	Leader func() string
	// Client forwards to the leader (default http.DefaultClient).
	Client *http.Client
}

// Receive applies a batch. A follower's proposer refuses with
// errs.ErrUnavailable; the HTTP handler then forwards to the leader.
func (r *Receiver) Receive(ctx context.Context, b Batch) (model.ReceiveResult, error) {
	res, err := r.Store.Federation.Receive(ctx, b.Origin, b.Messages)
	if errors.Is(err, errs.ErrForbidden) || errors.Is(err, errs.ErrInvalid) {
		// Refused as a whole: record why, then answer.
		reason := err.Error()
		if rerr := r.Store.Federation.Refuse(ctx, model.Refusal{Origin: b.Origin, Reason: reason}); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return res, err
}

// ServeHTTP accepts a batch. With TLS the client certificate's common name
// must be the batch's origin, so a member cannot speak for another.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxBatchBytes))
	if err != nil {
		http.Error(w, "batch too large or unreadable: "+err.Error(), http.StatusBadRequest)
		return
	}
	b, err := DecodeBatch(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if req.TLS != nil {
		cn := ""
		if len(req.TLS.PeerCertificates) > 0 {
			cn = req.TLS.PeerCertificates[0].Subject.CommonName
		}
		// A replica of this group forwarding to its leader has already
		// checked the origin's certificate; it presents its own.
		if req.Header.Get("X-Fengqiao-Forwarded") != "" && cn != "" && cn == r.self() {
			cn = b.Origin
		}
		if cn != b.Origin {
			r.Store.Federation.Refuse(req.Context(), model.Refusal{Origin: b.Origin, Reason: "client certificate does not match the origin"})
			http.Error(w, "client certificate does not match origin "+b.Origin, http.StatusForbidden)
			return
		}
	}
	res, err := r.Receive(req.Context(), b)
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	case errors.Is(err, errs.ErrUnavailable) && r.Leader != nil && r.Leader() != "" && req.Header.Get("X-Fengqiao-Forwarded") == "":
		r.forward(w, req, raw)
	case errors.Is(err, errs.ErrForbidden):
		http.Error(w, err.Error(), http.StatusForbidden)
	case errors.Is(err, errs.ErrInvalid):
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}
}

func (r *Receiver) self() string {
	cfg, err := r.Store.Federation.Config()
	if err != nil {
		return ""
	}
	return cfg.Self
}

func (r *Receiver) forward(w http.ResponseWriter, req *http.Request, raw []byte) {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	fr, err := http.NewRequestWithContext(req.Context(), http.MethodPost, scheme+"://"+r.Leader()+Path, bytes.NewReader(raw))
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	fr.Header.Set("X-Fengqiao-Forwarded", "1")
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(fr)
	if err != nil {
		http.Error(w, "forward to leader: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// DecodeBatch strictly parses a batch: unknown fields, trailing data,
// oversize bodies and messages out of order are errors.
func DecodeBatch(raw []byte) (Batch, error) {
	var b Batch
	if len(raw) > MaxBatchBytes {
		return b, errs.Invalid("batch", "size", "batch is %d bytes, more than %d", len(raw), MaxBatchBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Batch{}, errs.Invalid("batch", "json", "malformed batch: %v", err)
	}
	if dec.More() {
		return Batch{}, errs.Invalid("batch", "json", "trailing data after batch")
	}
	if b.Origin == "" {
		return Batch{}, errs.Invalid("origin", "required", "origin is required")
	}
	if len(b.Messages) > model.MaxReceiveBatch {
		return Batch{}, errs.Invalid("messages", "size", "%d messages, more than %d", len(b.Messages), model.MaxReceiveBatch)
	}
	for i := 1; i < len(b.Messages); i++ {
		if b.Messages[i].Seq <= b.Messages[i-1].Seq {
			return Batch{}, errs.Invalid(fmt.Sprintf("messages[%d].seq", i), "order", "sequence numbers must increase")
		}
	}
	return b, nil
}
