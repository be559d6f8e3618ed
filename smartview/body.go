package smartview

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// Answers are read as they arrive, never buffered whole in memory before decoding, and the size
// limit is enforced while reading: an answer announced larger than maxBodyBytes is refused before
// its first byte is read, and one that turns out larger stops being read at the limit. Past
// bigBodyBytes an answer must hold the client's one big-answer slot, so that concurrent big
// answers are read one after the other and memory does not multiply with them.
//
// An answer of unknown length (chunked) that grows past bigBodyBytes is spooled to a temporary
// file, up to the limit, before it is decoded: decoded readings take about ten times the memory
// of their JSON, so decoding an answer that turns out too large would cost far more than reading
// it. A refused answer is never decoded; an accepted one is decoded from the file as a stream.

const (
	// maxBodyBytes bounds the answers the client reads. The largest documented answers
	// (hierarchies and power lists of a large IBX) are a few MiB.
	maxBodyBytes = 64 << 20
	// bigBodyBytes is the size past which an answer needs the big-answer slot.
	bigBodyBytes = 4 << 20
	// maxErrorBodyBytes bounds what is read of an error answer (its message).
	maxErrorBodyBytes = 64 << 10
)

var errBodyTooLarge = fmt.Errorf("answer larger than %d bytes", maxBodyBytes)

// bigSlot is the big-answer slot of one client.
type bigSlot chan struct{}

func newBigSlot() bigSlot { return make(bigSlot, 1) }

// bodyReader reads an answer's body within the limit, taking the big-answer
// slot when the body grows past bigBodyBytes. It remembers why reading
// stopped early: the limit, or a transport failure.
type bodyReader struct {
	ctx      context.Context
	r        io.Reader
	slot     bigSlot
	n, limit int64
	held     bool
	tooLarge bool
	readErr  error // a transport failure while reading (not EOF, not the limit)
}

func newBodyReader(ctx context.Context, resp *http.Response, slot bigSlot, limit int64) (*bodyReader, error) {
	b := &bodyReader{ctx: ctx, r: resp.Body, slot: slot, limit: limit}
	if resp.ContentLength > limit {
		b.tooLarge = true
		return nil, errBodyTooLarge
	}
	if resp.ContentLength > bigBodyBytes && limit > bigBodyBytes {
		if err := b.acquire(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *bodyReader) acquire() error {
	if b.held || b.slot == nil {
		return nil
	}
	select {
	case b.slot <- struct{}{}:
		b.held = true
		return nil
	case <-b.ctx.Done():
		b.readErr = b.ctx.Err()
		return b.ctx.Err()
	}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.tooLarge {
		return 0, errBodyTooLarge
	}
	if !b.held && b.n+int64(len(p)) > bigBodyBytes {
		if err := b.acquire(); err != nil {
			return 0, err
		}
	}
	if room := b.limit - b.n + 1; int64(len(p)) > room { // one byte more than allowed tells "too large"
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		b.tooLarge = true
		return n, errBodyTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) && b.readErr == nil {
		b.readErr = err
	}
	return n, err
}

// release gives the big-answer slot back.
func (b *bodyReader) release() {
	if b.held {
		b.held = false
		<-b.slot
	}
}

// failure classifies why decoding a body failed: the limit (ErrDecode, not
// retried) or the connection (ErrTransport, retried); nil when the body was
// read fine and the decoder's error stands.
func (b *bodyReader) failure() error {
	switch {
	case b.tooLarge:
		return fmt.Errorf("%w: %w", ErrDecode, errBodyTooLarge)
	case b.readErr != nil:
		return fmt.Errorf("%w: reading the answer: %w", ErrTransport, b.readErr)
	}
	return nil
}

// settle returns what decode should read: the body itself when its length was announced (and
// checked), the answer in memory when it ended within bigBodyBytes, else the answer spooled to
// a temporary file (done removes it). An answer past the limit is refused unread by decode.
func settle(b *bodyReader, announced bool) (r io.Reader, done func(), err error) {
	if announced {
		return b, func() {}, nil
	}
	head, err := io.ReadAll(io.LimitReader(b, bigBodyBytes))
	if err != nil {
		return nil, nil, err
	}
	if len(head) < bigBodyBytes {
		return bytes.NewReader(head), func() {}, nil
	}
	f, err := os.CreateTemp("", "svgateway-answer-*")
	if err != nil { // no room to spool: decode as it arrives
		return io.MultiReader(bytes.NewReader(head), b), func() {}, nil
	}
	done = func() {
		f.Close()
		os.Remove(f.Name())
	}
	if _, err := f.Write(head); err != nil {
		done()
		return io.MultiReader(bytes.NewReader(head), b), func() {}, nil
	}
	head = nil
	if _, err := io.Copy(f, b); err != nil {
		done()
		return nil, nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		done()
		return nil, nil, err
	}
	return bufio.NewReaderSize(f, 64<<10), done, nil
}
