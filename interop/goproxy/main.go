// Command goproxy is a stand-in for the original inverting proxy's stand-alone server
// (google/inverting-proxy, server/server.go), written for interoperability tests only.
// It uses nothing but Go's standard library, so its wire behaviour is that of net/http,
// exactly as in the original. The behaviours it reproduces, as documented facts:
//
//   - One handler for every path. A request carrying X-Inverting-Proxy-Backend-ID is an
//     agent call, whatever its path: without X-Inverting-Proxy-Request-ID it lists pending
//     requests; with it, a POST delivers a response and any other method fetches a request.
//   - A client request gets a 64-hex-character id; the hop-by-hop headers Connection,
//     Keep-Alive, Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding
//     and Upgrade are deleted from it; its id then waits on a channel of capacity
//     --request-queue-size (0 by default: the client waits until an agent is polling).
//   - List: waits up to --list-pending-timeout (30 s) for one id, then also takes every
//     id that is immediately available, and answers 200 with json.Marshal of the slice,
//     which is `null` when the wait timed out. Listed ids are never listed again.
//   - Fetch: 404 for an unknown id; otherwise 200 with only the header
//     X-Inverting-Proxy-Request-Start-Time (RFC 3339 with nanoseconds) and the body
//     written by (*http.Request).Write (which adds Go's default User-Agent when the client
//     sent none). Ids are never forgotten, so a fetch can be repeated.
//   - Response: 404 for an unknown id; 400 "Failure parsing request body" when
//     http.ReadResponse (given the client's request, so HEAD is known) fails; otherwise the
//     parsed response is handed to the waiting client, blocking until the client takes it
//     or the agent's call ends, and its body is then copied through; 200 with no body.
//   - Relay to the client: every response header except the hop-by-hop ones above, plus an
//     added "Transfer-Encoding: chunked" on every response, then the status, then the body
//     copied without explicit flushes (the ResponseWriter buffers a few KiB), then the
//     response trailers under http.TrailerPrefix.
//
// Differences from the original that a peer cannot observe: ids come from crypto/rand
// instead of a hash of math/rand; it listens on 127.0.0.1 (the original: every
// interface) and prints "listening on http://127.0.0.1:PORT/ " on standard output.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

var (
	port               = flag.Int("port", 0, "TCP port; 0 picks a free one")
	listPendingTimeout = flag.Duration("list-pending-timeout", 30*time.Second, "how long a list call waits for a request")
	requestQueueSize   = flag.Int("request-queue-size", 0, "ids that may wait without an agent polling")
	requestTimeout     = flag.Duration("request-timeout", 0, "limit for one client request; 0 = none")
)

const (
	headerBackendID = "X-Inverting-Proxy-Backend-ID"
	headerRequestID = "X-Inverting-Proxy-Request-ID"
	headerStartTime = "X-Inverting-Proxy-Request-Start-Time"
)

// waiting is one client request held until an agent answers it.
type waiting struct {
	start    time.Time
	req      *http.Request
	response chan *http.Response
}

type server struct {
	queue chan string

	mu      sync.Mutex
	waiting map[string]*waiting
}

func hopByHop(name string) bool {
	switch strings.ToLower(name) {
	case "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
		"te", "trailer", "transfer-encoding", "upgrade":
		return true
	}
	return false
}

func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func (s *server) lookup(id string) *waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting[id]
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if backend := r.Header.Get(headerBackendID); backend != "" {
		s.agentCall(w, r, backend)
		return
	}
	s.clientRequest(w, r)
}

func (s *server) agentCall(w http.ResponseWriter, r *http.Request, backend string) {
	id := r.Header.Get(headerRequestID)
	switch {
	case id == "":
		s.listPending(w, r)
	case r.Method == http.MethodPost:
		s.postResponse(w, r, id)
	default:
		s.getRequest(w, id)
	}
}

func (s *server) listPending(w http.ResponseWriter, r *http.Request) {
	var ids []string
	select {
	case <-r.Context().Done():
	case <-time.After(*listPendingTimeout):
	case id := <-s.queue:
		ids = append(ids, id)
	more:
		for {
			select {
			case id := <-s.queue:
				ids = append(ids, id)
			default:
				break more
			}
		}
	}
	body, err := json.Marshal(ids) // a nil slice marshals as null
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func (s *server) getRequest(w http.ResponseWriter, id string) {
	p := s.lookup(id)
	if p == nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set(headerStartTime, p.start.Format(time.RFC3339Nano))
	w.WriteHeader(http.StatusOK)
	p.req.Write(w)
}

func (s *server) postResponse(w http.ResponseWriter, r *http.Request, id string) {
	p := s.lookup(id)
	if p == nil {
		http.NotFound(w, r)
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(r.Body), p.req)
	if err != nil {
		log.Printf("unparseable response for %s: %v", id, err)
		http.Error(w, "Failure parsing request body", http.StatusBadRequest)
		return
	}
	// The client gets a pipe so that it can start relaying at once; this handler
	// returns only after the whole body went through.
	body := resp.Body
	defer body.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	resp.Body = pr
	select {
	case <-r.Context().Done():
		return
	case p.response <- resp:
	}
	if _, err := io.Copy(pw, body); err != nil {
		log.Printf("response body for %s broke off: %v", id, err)
		http.Error(w, "Failure reading request body", http.StatusInternalServerError)
	}
}

func (s *server) clientRequest(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if *requestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *requestTimeout)
		defer cancel()
	}
	id := newID()
	for name := range r.Header {
		if hopByHop(name) {
			r.Header.Del(name)
		}
	}
	p := &waiting{start: time.Now(), req: r, response: make(chan *http.Response)}
	s.mu.Lock()
	s.waiting[id] = p
	s.mu.Unlock()

	select {
	case <-r.Context().Done():
		return
	case <-ctx.Done():
		http.Error(w, http.StatusText(http.StatusGatewayTimeout), http.StatusGatewayTimeout)
		return
	case s.queue <- id:
	}
	select {
	case <-r.Context().Done():
		return
	case <-ctx.Done():
		http.Error(w, http.StatusText(http.StatusRequestTimeout), http.StatusRequestTimeout)
		return
	case resp := <-p.response:
		for name, values := range resp.Header {
			if !hopByHop(name) {
				w.Header()[name] = values
			}
		}
		w.Header().Add("transfer-encoding", "chunked")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		resp.Body.Close()
		for name, values := range resp.Trailer {
			if hopByHop(name) {
				continue
			}
			for _, v := range values {
				w.Header().Add(http.TrailerPrefix+name, v)
			}
		}
	}
}

func main() {
	flag.Parse()
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatalf("cannot listen on port %d: %v", *port, err)
	}
	fmt.Fprintf(os.Stdout, "listening on http://%s/ \n", listener.Addr())
	s := &server{queue: make(chan string, *requestQueueSize), waiting: map[string]*waiting{}}
	log.Fatal(http.Serve(listener, s))
}
