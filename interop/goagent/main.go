// Command goagent is a stand-in for the original inverting proxy's forwarding agent
// (google/inverting-proxy, agent/agent.go and agent/utils/utils.go), reduced to its core
// loop and written for interoperability tests only. It uses nothing but Go's standard
// library, so its wire behaviour is that of net/http, as in the original. The behaviours it
// reproduces, as documented facts:
//
//   - Every call to the proxy carries X-Inverting-Proxy-Backend-ID, through an http.Client
//     whose Timeout is --proxy-timeout (60 s).
//   - Poll: GET PROXY+"agent/pending"; a non-200 answer is an error; an empty body means no
//     ids, otherwise the body is decoded with encoding/json into a []string (so `null` is
//     no ids too). After an error it sleeps with exponential backoff (1 ms doubling, capped
//     at 3 s, ±10 % jitter). Ids already started (the last 1000) are skipped; each new id
//     is handled concurrently.
//   - Fetch: GET PROXY+"agent/request" with X-Inverting-Proxy-Request-ID; fails unless the
//     answer is 200 and X-Inverting-Proxy-Request-Start-Time parses with time.RFC3339Nano;
//     the body is read with http.ReadRequest.
//   - Forward: through httputil.NewSingleHostReverseProxy to http://HOST with a
//     FlushInterval of 100 ms. The reverse proxy rewrites only the URL's scheme and host,
//     so the backend sees the client's own Host header; it drops hop-by-hop headers, sends
//     Accept-Encoding: gzip when the client sent none (and then decompresses) and answers
//     502 when the backend cannot be reached.
//   - Respond: the reverse proxy writes into a ResponseWriter whose WriteHeader copies the
//     headers except Connection, Proxy-Connection, Keep-Alive, Proxy-Authenticate,
//     Proxy-Authorization, Te, Trailer, Transfer-Encoding and Upgrade into a new
//     *http.Response (HTTP/1.1, Status = http.StatusText(code), Body = a pipe, no
//     ContentLength, no Request, no Trailer) and runs (*http.Response).Write into a second
//     pipe that is the body of POST PROXY+"agent/response" (headers Backend-ID, Request-ID,
//     Content-Type: text/plain). That POST starts at the first body write or when the
//     response is closed. Response.Write therefore drops Content-Length, probes the body:
//     empty bodies get "Content-Length: 0" (none for 1xx/204/304), non-empty ones are sent
//     with "Connection: close" and delimited by the end of the POST body (not chunked), and
//     the backend's trailers are lost.
//
// Not reproduced: credentials, the VM-ID header, retries of fetch/respond, health checks,
// sessions, banners, the WebSocket shim, metrics.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

var (
	proxyURL     = flag.String("proxy", "", "the proxy's URL, ending with /")
	backendID    = flag.String("backend", "", "the backend id")
	host         = flag.String("host", "localhost:8080", "the backend's host:port")
	proxyTimeout = flag.Duration("proxy-timeout", 60*time.Second, "client timeout of calls to the proxy")
)

const (
	headerBackendID = "X-Inverting-Proxy-Backend-ID"
	headerRequestID = "X-Inverting-Proxy-Request-ID"
	headerStartTime = "X-Inverting-Proxy-Request-Start-Time"
)

var hopHeaders = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

func agentRequest(method, path, requestID string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequest(method, *proxyURL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set(headerBackendID, *backendID)
	if requestID != "" {
		req.Header.Set(headerRequestID, requestID)
	}
	return req, nil
}

func listPending(client *http.Client) ([]string, error) {
	req, err := agentRequest(http.MethodGet, "agent/pending", "", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list pending: %d %q", resp.StatusCode, body)
	}
	if len(body) == 0 {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal(body, &ids); err != nil {
		return nil, fmt.Errorf("list pending: %v", err)
	}
	return ids, nil
}

// forwarder is the http.ResponseWriter the reverse proxy writes into.
type forwarder struct {
	header      http.Header
	wroteHeader bool
	response    *http.Response
	bodyWriter  *io.PipeWriter // the backend body, read by response.Write
	wireWriter  *io.PipeWriter // response.Write's output, the POST body
	start       chan struct{}  // closed once: the POST may begin
	startOnce   sync.Once
	posted      chan error // the POST's outcome
	written     chan error // response.Write's outcome
}

func newForwarder(client *http.Client, requestID string) (*forwarder, error) {
	wireReader, wireWriter := io.Pipe()
	bodyReader, bodyWriter := io.Pipe()
	post, err := agentRequest(http.MethodPost, "agent/response", requestID, wireReader)
	if err != nil {
		return nil, err
	}
	post.Header.Set("Content-Type", "text/plain")
	f := &forwarder{
		header:     http.Header{},
		response:   &http.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Body: bodyReader},
		bodyWriter: bodyWriter,
		wireWriter: wireWriter,
		start:      make(chan struct{}),
		posted:     make(chan error, 1),
		written:    make(chan error, 1),
	}
	go func() {
		<-f.start
		resp, err := client.Do(post)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("proxy answered %s", resp.Status)
			}
		}
		wireReader.CloseWithError(fmt.Errorf("post ended: %v", err))
		f.posted <- err
	}()
	return f, nil
}

func (f *forwarder) begin() { f.startOnce.Do(func() { close(f.start) }) }

func (f *forwarder) Header() http.Header { return f.header }

func (f *forwarder) WriteHeader(code int) {
	if f.wroteHeader {
		return
	}
	f.wroteHeader = true
	for name, values := range f.header {
		if !hopHeaders[name] {
			f.response.Header[name] = values
		}
	}
	f.response.StatusCode = code
	f.response.Status = http.StatusText(code)
	go func() {
		err := f.response.Write(f.wireWriter)
		if err != nil {
			f.response.Body.(*io.PipeReader).CloseWithError(err)
		}
		f.wireWriter.Close()
		f.written <- err
	}()
}

func (f *forwarder) Write(b []byte) (int, error) {
	if !f.wroteHeader {
		f.WriteHeader(http.StatusOK)
	}
	f.begin()
	return f.bodyWriter.Write(b)
}

// Close ends the body and waits until the response went to the proxy.
func (f *forwarder) Close() error {
	f.begin()
	f.bodyWriter.Close()
	werr := <-f.written
	perr := <-f.posted
	if werr != nil {
		return werr
	}
	return perr
}

func handle(client *http.Client, backend http.Handler, requestID string) error {
	req, err := agentRequest(http.MethodGet, "agent/request", requestID, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: %s", requestID, resp.Status)
	}
	if _, err := time.Parse(time.RFC3339Nano, resp.Header.Get(headerStartTime)); err != nil {
		return fmt.Errorf("fetching %s: start time: %v", requestID, err)
	}
	forwarded, err := http.ReadRequest(bufio.NewReader(resp.Body))
	if err != nil {
		return fmt.Errorf("fetching %s: %v", requestID, err)
	}
	f, err := newForwarder(client, requestID)
	if err != nil {
		return err
	}
	backend.ServeHTTP(f, forwarded)
	if !f.wroteHeader { // as net/http does for a handler that wrote nothing
		f.WriteHeader(http.StatusOK)
	}
	return f.Close()
}

func backoff(retry uint) time.Duration {
	d := 3 * time.Second
	if retry < 12 {
		if b := time.Millisecond << retry; b < d {
			d = b
		}
	}
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

func main() {
	flag.Parse()
	if *proxyURL == "" || *backendID == "" {
		log.Fatal("--proxy and --backend are required")
	}
	client := &http.Client{Timeout: *proxyTimeout}
	backend := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: *host})
	backend.FlushInterval = 100 * time.Millisecond

	seen := map[string]bool{}
	var order []string
	var retry uint
	for {
		ids, err := listPending(client)
		if err != nil {
			log.Printf("polling: %v", err)
			time.Sleep(backoff(retry))
			retry++
			continue
		}
		retry = 0
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			order = append(order, id)
			if len(order) > 1000 {
				delete(seen, order[0])
				order = order[1:]
			}
			go func(id string) {
				if err := handle(client, backend, id); err != nil {
					log.Printf("request %s: %v", id, err)
				}
			}(id)
		}
	}
}
