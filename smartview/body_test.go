package smartview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// powerElement is one power reading as a list answer carries it.
const powerElement = `{"ibx":"CH1","accountNo":"1","levelType":"CIRCUIT","levelValue":"14488436","kva":1.25,"readingTime":"1550506500000"}`

// writeList streams {"payLoad":{"data":[…]}} of about size bytes (or until the client goes
// away) and returns what it wrote.
func writeList(w http.ResponseWriter, size int64, complete bool) int64 {
	var n int64
	write := func(s string) bool {
		k, err := io.WriteString(w, s)
		n += int64(k)
		return err == nil
	}
	if !write(`{"payLoad":{"data":[` + powerElement) {
		return n
	}
	chunk := strings.Repeat(","+powerElement, 256)
	for n+int64(len(chunk)) < size {
		if !write(chunk) {
			return n
		}
	}
	if complete {
		write(`]},"status":{"statuscode":"1000"}}`)
	}
	return n
}

// TestOversizedAnswers: the limit is enforced while reading, not after: an answer announced
// too large is refused unread, one that turns out too large stops being read at the limit,
// and neither is retried. A large answer within the limit decodes.
func TestOversizedAnswers(t *testing.T) {
	const huge = 200 << 20
	tests := []struct {
		name     string
		serve    func(w http.ResponseWriter) int64
		wantErr  bool
		maxWrite int64 // what the server may have written before the client stopped reading
		wantLen  int
	}{
		{name: "announced by Content-Length", serve: func(w http.ResponseWriter) int64 {
			w.Header().Set("Content-Length", strconv.Itoa(huge))
			return writeList(w, huge, true)
		}, wantErr: true, maxWrite: 16 << 20},
		{name: "streamed without a length", serve: func(w http.ResponseWriter) int64 {
			return writeList(w, huge, true)
		}, wantErr: true, maxWrite: maxBodyBytes + 16<<20},
		{name: "large but within the limit", serve: func(w http.ResponseWriter) int64 {
			return writeList(w, 8<<20, true)
		}, wantLen: 1 + (8<<20)/len(","+powerElement)/256*256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			written := make(chan int64, 4)
			api.handle("POST /power/v1/current", func(w http.ResponseWriter, r *http.Request) {
				written <- tt.serve(w)
			})
			list, err := api.defaultClient().PowerList(context.Background(), "CH1", LevelCircuit)
			if tt.wantErr {
				if !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), fmt.Sprintf("larger than %d bytes", maxBodyBytes)) {
					t.Fatalf("err = %v, want ErrDecode: larger than %d bytes", err, maxBodyBytes)
				}
			} else if err != nil || len(list) < tt.wantLen-256 || len(list) > tt.wantLen+256 {
				t.Fatalf("got %d elements, %v; want about %d", len(list), err, tt.wantLen)
			}
			api.srv.CloseClientConnections()
			if n := <-written; tt.maxWrite > 0 && n > tt.maxWrite {
				t.Errorf("the server wrote %d bytes before the client stopped reading, want at most %d", n, tt.maxWrite)
			}
			if got := api.requestCount(); got != 1 {
				t.Errorf("%d requests: an oversized answer was retried", got)
			}
		})
	}
}

type endless struct{ n atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n.Add(int64(len(p)))
	return len(p), nil
}

// TestBigAnswersOneAtATime: past bigBodyBytes an answer must hold the client's big-answer slot;
// while one holds it, another cannot read past bigBodyBytes (here its context ends instead), and
// can once the slot is released.
func TestBigAnswersOneAtATime(t *testing.T) {
	slot := newBigSlot()
	read := func(ctx context.Context, upTo int64) (*bodyReader, error) {
		b, err := newBodyReader(ctx, &http.Response{Body: io.NopCloser(&endless{}), ContentLength: -1}, slot, maxBodyBytes)
		if err != nil {
			return nil, err
		}
		_, err = io.CopyN(io.Discard, b, upTo)
		return b, err
	}
	first, err := read(context.Background(), bigBodyBytes+1)
	if err != nil || !first.held {
		t.Fatalf("first big answer: held %v, err %v", first != nil && first.held, err)
	}
	small, err := read(context.Background(), bigBodyBytes/2)
	if err != nil || small.held {
		t.Fatalf("a small answer needs no slot: held %v, err %v", small.held, err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := read(cancelled, bigBodyBytes+1); !errors.Is(err, context.Canceled) {
		t.Fatalf("second big answer while the slot is held: err %v, want it to wait (context canceled)", err)
	}
	first.release()
	second, err := read(context.Background(), bigBodyBytes+1)
	if err != nil || !second.held {
		t.Fatalf("second big answer after release: held %v, err %v", second.held, err)
	}
	second.release()
}
